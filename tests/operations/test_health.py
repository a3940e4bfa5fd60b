"""/healthz says the process is alive without touching the database; /readyz says the database answers with its
schema at the newest migration, or 503 with the reason; neither is in the access log or the audit log."""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from fusioncare.accounts.models import AuditEvent
from fusioncare.db import make_engine
from fusioncare.main import create_app
from fusioncare.operations import service


def test_healthz_answers_without_a_database_and_readyz_names_the_problem(settings, tmp_path):
    # A PostgreSQL port nothing listens on: any database call would fail.
    unreachable = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1})
    with TestClient(create_app(settings, engine=unreachable)) as client:
        alive = client.get("/healthz")
        ready = client.get("/readyz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "reason": "the database does not answer (OperationalError)"}
    assert "Traceback" not in ready.text and "127.0.0.1" not in ready.text


def test_readyz_is_200_when_the_schema_is_at_the_newest_migration(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "reason": "ready"}


def test_readyz_is_503_with_the_revision_when_the_schema_is_behind(settings, tmp_path):
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with TestClient(create_app(settings, engine=empty)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    newest = ", ".join(sorted(service.expected_heads()))
    assert response.json()["reason"] == (f"the database schema is at no schema, this version needs {newest}: "
                                         "run `fusioncare init`")


def test_readyz_names_an_older_revision(settings, clean_engine):
    with clean_engine.begin() as connection:
        (current,) = connection.execute(text("SELECT version_num FROM alembic_version")).one()
        connection.execute(text("UPDATE alembic_version SET version_num = '0007_recovery_shares'"))
    try:
        with TestClient(create_app(settings, engine=clean_engine)) as client:
            response = client.get("/readyz")
    finally:
        with clean_engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    assert response.status_code == 503
    assert response.json()["reason"].startswith("the database schema is at 0007_recovery_shares, this version needs")


def test_readyz_reports_a_broken_replica_without_becoming_unready(settings, clean_engine):
    replica = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1})
    with TestClient(create_app(settings, engine=clean_engine, read_engine=replica)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "reason": "ready",
                               "replica": "the database does not answer (OperationalError)"}


def test_probes_are_neither_in_the_access_log_nor_in_the_audit_log(client, db, caplog):
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
        assert client.get("/api/v1/health").status_code == 200
    access = [r.getMessage() for r in caplog.records if r.name == "fusioncare.access"]
    assert access == ["GET /api/v1/health 200 " + access[0].split(" 200 ")[1]], access
    assert not any("/healthz" in r.getMessage() or "/readyz" in r.getMessage()
                   for r in caplog.records if r.name.startswith(("fusioncare", "uvicorn")))
    assert not [r for r in caplog.records if r.name.startswith("alembic")], "probes log nothing of their own"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before
