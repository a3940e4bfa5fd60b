"""With FUSIONCARE_DATABASE_READ_URL, directory search, provider profiles and matching read from a real streaming
replica, and every write (sign-in, booking) goes to the primary: both servers log every statement they run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from fusioncare import migrate
from fusioncare.accounts import service as accounts
from fusioncare.accounts.models import Role
from fusioncare.db import make_engine, make_session_factory
from fusioncare.directory.npi import with_check_digit
from fusioncare.directory.specialties import SPECIALTY_TAXONOMIES
from fusioncare.main import create_app
from fusioncare.settings import Settings
from tests.operations.replica import ReplicatedCluster, server_bin_dir
from tests.scheduling.builders import PASSWORD, bookable_provider, future_day

NPI = with_check_digit("182000001")
SPECIALTY = next(code for code, (_, taxonomies) in SPECIALTY_TAXONOMIES.items() if "207Q00000X" in taxonomies)
ANSWERS = {"months_since_surgery": 8, "leg_pain": 6, "back_pain": 3, "trend": "stable",
           "treatments_tried": ["medication", "physical_therapy"]}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(server_bin_dir() is None, reason="PostgreSQL's server programs (initdb, pg_ctl, "
                       "pg_basebackup) are not installed; the replica test starts its own primary and standby"),
]


@pytest.fixture(scope="module")
def cluster():
    with ReplicatedCluster() as running:
        yield running


def test_reads_go_to_the_replica_and_writes_to_the_primary(cluster, tmp_path):
    primary = make_engine(cluster.primary_url)
    migrate.upgrade(primary)
    with make_session_factory(primary)() as db:
        bookable_provider(db, tmp_path, NPI)
        accounts.ensure_account(db, email="reader@example.org", password=PASSWORD, role=Role.patient)
        db.commit()
    primary.dispose()
    cluster.wait_for_replay()

    settings = Settings(env="test", data_dir=tmp_path, secret_key="replica-test-" + "r" * 40,
                        database_url=cluster.primary_url, database_read_url=cluster.standby_url)
    app = create_app(settings)
    with app.state.engine.connect() as c, app.state.read_engine.connect() as r:
        assert c.scalar(text("SELECT pg_is_in_recovery()")) is False
        assert r.scalar(text("SELECT pg_is_in_recovery()")) is True

    with TestClient(app) as client:
        marks = cluster.log_marks()
        search = client.get("/api/v1/providers", params={"specialty": SPECIALTY, "near": "10001"})
        profile = client.get(f"/api/v1/providers/{NPI}")
        match = client.post("/api/v1/matches", json={"assessment": ANSWERS, "near": "10001"})
        search_page = client.get("/doctors", params={"specialty": SPECIALTY, "near": "10001"})
        profile_page = client.get(f"/doctors/{NPI}")
        read_primary, read_standby = cluster.statements_since(marks)

        marks = cluster.log_marks()
        token = client.post("/api/v1/tokens", json={"email": "reader@example.org", "password": PASSWORD})
        start = datetime.combine(future_day(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
        booking = client.post("/api/v1/appointments", json={"npi": NPI, "start": start.isoformat(),
                                                            "type": "follow_up"},
                              headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        write_primary, write_standby = cluster.statements_since(marks)
    app.state.engine.dispose()
    app.state.read_engine.dispose()

    assert search.status_code == 200 and [r["npi"] for r in search.json()["results"]] == [NPI]
    assert profile.status_code == 200 and profile.json()["npi"] == NPI
    assert match.status_code == 200 and match.json()["groups"]
    assert search_page.status_code == 200 and profile_page.status_code == 200
    assert "directory_search_index" in read_standby and "directory_providers" in read_standby
    assert "directory_" not in read_primary, "no directory read reached the primary"

    assert token.status_code == 200 and booking.status_code == 201, booking.text
    assert "INSERT INTO scheduling_appointments" in write_primary
    assert "INSERT INTO access_tokens" in write_primary
    for verb in ("INSERT", "UPDATE", "DELETE"):
        assert verb not in write_standby + read_standby, f"an {verb} was sent to the replica"
