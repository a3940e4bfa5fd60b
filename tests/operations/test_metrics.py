"""GET /metrics: Prometheus text by route template (never the raw path) and status class, the database pool, the
reminder outbox and the last successful import per source; a token in production, loopback in development."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from fusioncare.directory.npi import with_check_digit
from fusioncare.main import create_app
from fusioncare.scheduling.models import Appointment, OutboxMessage
from fusioncare.settings import Settings
from tests.directory.nppes_files import provider_row, write_nppes

TOKEN = "metrics-token-" + "m" * 30


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from the exposition text (parsed by prometheus-client itself)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def test_requests_are_counted_by_route_template_and_status_class_never_by_raw_path(client):
    npi = with_check_digit("999000001")
    before = value(client.get("/metrics").text, "fusioncare_http_requests_total", method="GET",
                   route="/api/v1/providers/{npi}", status_class="4xx") or 0
    for _ in range(3):
        assert client.get(f"/api/v1/providers/{npi}?q=secret-words").status_code == 404
    client.get("/no/such/page/12345")
    text = client.get("/metrics").text
    assert value(text, "fusioncare_http_requests_total", method="GET", route="/api/v1/providers/{npi}",
                 status_class="4xx") == before + 3
    assert value(text, "fusioncare_http_request_duration_seconds_count", method="GET",
                 route="/api/v1/providers/{npi}", status_class="4xx") >= 3
    assert value(text, "fusioncare_http_requests_total", method="GET", route="unmatched", status_class="4xx") >= 1
    assert npi not in text and "secret-words" not in text and "12345" not in text


def test_pool_gauges_and_an_empty_outbox_are_reported(client):
    text = client.get("/metrics").text
    assert value(text, "fusioncare_db_pool_connections_in_use", database="primary") is not None
    assert value(text, "fusioncare_db_pool_checkouts_waiting", database="primary") is not None
    assert value(text, "fusioncare_outbox_pending") == 0
    assert value(text, "fusioncare_outbox_oldest_due_age_seconds") == 0


def test_outbox_backlog_and_the_oldest_due_reminder(client, db, make_person):
    patient = make_person("reminded")
    now = datetime.now(UTC)
    appointment = Appointment(patient_id=patient.id, npi=with_check_digit("180000009"), type_code="follow_up",
                              starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=1, minutes=20),
                              time_zone="America/New_York")
    db.add(appointment)
    db.flush()
    db.add_all([OutboxMessage(appointment_id=appointment.id, kind="reminder_24h", recipient="patient",
                              due_at=now - timedelta(minutes=30)),
                OutboxMessage(appointment_id=appointment.id, kind="reminder_2h", recipient="patient",
                              due_at=now + timedelta(minutes=50))])
    db.commit()
    text = client.get("/metrics").text
    assert value(text, "fusioncare_outbox_pending") == 2
    assert value(text, "fusioncare_outbox_due") == 1
    assert 30 * 60 <= value(text, "fusioncare_outbox_oldest_due_age_seconds") < 40 * 60


def test_the_last_successful_import_per_source_with_its_row_counts(client, db, tmp_path):
    from fusioncare.directory.importer import import_nppes

    rows = [provider_row(with_check_digit(f"18100000{i}")) for i in range(3)]
    import_nppes(db=db, path=write_nppes(tmp_path / "npidata_first.csv", rows))
    import_nppes(db=db, path=write_nppes(tmp_path / "npidata_second.csv", [*rows, "not,a,row"]))
    text = client.get("/metrics").text
    finished = value(text, "fusioncare_import_last_success_timestamp_seconds", source="nppes")
    assert finished is not None and abs(finished - datetime.now(UTC).timestamp()) < 60
    counts = {outcome: value(text, "fusioncare_import_last_success_rows", source="nppes", outcome=outcome)
              for outcome in ("rows", "imported", "unchanged", "rejected")}
    assert counts == {"rows": 4, "imported": 0, "unchanged": 3, "rejected": 1}, "the second run, not the first"


def _client(settings: Settings, engine, *, host: str) -> TestClient:
    return TestClient(create_app(settings, engine=engine), client=(host, 50000))


def test_production_needs_the_token_even_from_loopback(settings, clean_engine):
    production = settings.model_copy(update={"env": "production", "metrics_token": TOKEN, "notifier": "smtp",
                                             "smtp_host": "127.0.0.1"})
    with _client(production, clean_engine, host="127.0.0.1") as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_production_without_a_token_keeps_metrics_closed(settings, clean_engine):
    production = settings.model_copy(update={"env": "production", "notifier": "smtp", "smtp_host": "127.0.0.1"})
    with _client(production, clean_engine, host="127.0.0.1") as client:
        assert client.get("/metrics").status_code == 401


def test_development_opens_metrics_to_loopback_only(settings, clean_engine):
    with _client(settings, clean_engine, host="127.0.0.1") as client:
        assert client.get("/metrics").status_code == 200
    with _client(settings, clean_engine, host="::1") as client:
        assert client.get("/metrics").status_code == 200
    with _client(settings, clean_engine, host="192.0.2.10") as client:
        assert client.get("/metrics").status_code == 401
    with_token = settings.model_copy(update={"metrics_token": TOKEN})
    with _client(with_token, clean_engine, host="192.0.2.10") as client:
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_the_metered_pool_counts_connections_in_use_and_threads_waiting_for_one(tmp_path):
    import threading
    import time

    from fusioncare.db import make_engine
    from fusioncare.operations import metrics

    label = "pool-test"
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.sqlite3'}", poolclass=metrics.metered_pool_class(label),
                         pool_size=1, max_overflow=0, pool_timeout=10)
    metrics.instrument_engine(engine, label=label)
    in_use, waiting = metrics.POOL_IN_USE.labels(label), metrics.POOL_WAITING.labels(label)
    held = engine.connect()
    assert in_use._value.get() == 1 and waiting._value.get() == 0
    got = threading.Event()

    def second() -> None:
        with engine.connect():
            got.set()

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 5
    while waiting._value.get() < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert waiting._value.get() == 1 and not got.is_set()
    held.close()
    thread.join(timeout=10)
    assert got.is_set() and waiting._value.get() == 0 and in_use._value.get() == 0
    engine.dispose()
