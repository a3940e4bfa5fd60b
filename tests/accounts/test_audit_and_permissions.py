"""The central permission rule and the append-only audit log it writes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from fusioncare.accounts import audit
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.accounts.models import AuditEvent
from fusioncare.accounts.permissions import Action, authorize, is_allowed
from fusioncare.errors import NotFound

OWNER = Actor(user_id=1, role="patient", verified_npi=None, client_address="10.0.0.1")
BOOKED_PROVIDER = Actor(user_id=2, role="provider", verified_npi="1234567893", client_address="10.0.0.2")
OTHER_PROVIDER = Actor(user_id=3, role="provider", verified_npi="1245319599", client_address="10.0.0.3")
ADMIN = Actor(user_id=4, role="admin", verified_npi=None, client_address="10.0.0.4")
ANONYMOUS = Actor(user_id=None, role=None, verified_npi=None, client_address="10.0.0.5")


@pytest.mark.parametrize("action", list(Action))
def test_owner_may_do_everything_with_their_record(action):
    assert is_allowed(actor=OWNER, action=action, owner_id=1)


def test_a_provider_the_owner_shared_with_may_only_read():
    shared = ["1234567893"]
    assert is_allowed(actor=BOOKED_PROVIDER, action=Action.read, owner_id=1, shared_with_npis=shared)
    assert not is_allowed(actor=BOOKED_PROVIDER, action=Action.update, owner_id=1, shared_with_npis=shared)
    assert not is_allowed(actor=OTHER_PROVIDER, action=Action.read, owner_id=1, shared_with_npis=shared)


@pytest.mark.parametrize("actor", [ADMIN, ANONYMOUS, OTHER_PROVIDER])
def test_nobody_else_may_read_health_data_admins_included(actor):
    assert not is_allowed(actor=actor, action=Action.read, owner_id=1, shared_with_npis=["1234567893"])


def test_authorize_records_who_what_when_where_and_outcome(db):
    authorize(db, actor=OWNER, action=Action.read, record_type="diary_entry", record_id=7, owner_id=1)
    with pytest.raises(NotFound):
        authorize(db, actor=ANONYMOUS, action=Action.read, record_type="diary_entry", record_id=7, owner_id=1)
    with pytest.raises(NotFound):
        authorize(db, actor=OWNER, action=Action.read, record_type="diary_entry", record_id=8, owner_id=None)
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor_user_id, e.action, e.record_id, e.client_address, e.outcome) for e in events] == [
        (1, "diary_entry.read", "7", "10.0.0.1", "allowed"),
        (None, "diary_entry.read", "7", "10.0.0.5", "denied"),
        (1, "diary_entry.read", "8", "10.0.0.1", "not_found"),
    ]
    assert all(e.occurred_at.tzinfo is not None for e in events)


def test_authorize_lets_a_provider_the_owner_shared_with_read_and_nothing_more(db):
    shared = ("1234567893",)
    authorize(db, actor=BOOKED_PROVIDER, action=Action.read, record_type="diary_entry", record_id=7, owner_id=1,
              shared_with_npis=shared)
    for action in (Action.update, Action.delete):
        with pytest.raises(NotFound, match="^There is no diary entry with this id.$"):
            authorize(db, actor=BOOKED_PROVIDER, action=action, record_type="diary_entry", record_id=7, owner_id=1,
                      shared_with_npis=shared)
    with pytest.raises(NotFound):
        authorize(db, actor=BOOKED_PROVIDER, action=Action.read, record_type="diary_entry", record_id=8, owner_id=1)
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor_user_id, e.action, e.record_id, e.outcome) for e in events] == [
        (2, "diary_entry.read", "7", "allowed"),
        (2, "diary_entry.update", "7", "denied"),
        (2, "diary_entry.delete", "7", "denied"),
        (2, "diary_entry.read", "8", "denied"),
    ]


def test_audit_event_survives_the_callers_rollback(db):
    with pytest.raises(NotFound):
        authorize(db, actor=ANONYMOUS, action=Action.delete, record_type="saved_assessment", record_id="x",
                  owner_id=1)
    db.rollback()
    assert db.scalar(select(AuditEvent.outcome)) == "denied"


def test_audit_events_cannot_be_changed_or_deleted_through_the_orm(db):
    audit.record(db, actor=OWNER, action="sign_in", record_type="user", record_id=1, outcome=Outcome.allowed)
    event = db.scalar(select(AuditEvent))
    event.outcome = "denied"
    with pytest.raises(RuntimeError, match="append-only"):
        db.flush()
    db.rollback()
    db.delete(db.scalar(select(AuditEvent)))
    with pytest.raises(RuntimeError, match="append-only"):
        db.flush()
    db.rollback()


def test_postgresql_trigger_forbids_update_and_delete_of_audit_events(db):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the database trigger is PostgreSQL's; SQLite relies on the ORM guard")
    audit.record(db, actor=OWNER, action="sign_in", record_type="user", record_id=1, outcome=Outcome.allowed)
    for statement in (update(AuditEvent).values(outcome="denied"), delete(AuditEvent)):
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(statement)
        db.rollback()
    assert db.scalar(text("SELECT count(*) FROM audit_events")) == 1


def test_reading_a_saved_assessment_is_audited_without_its_content(client, make_person, bearer, saved_assessment,
                                                                   db):
    ann = make_person("ann")
    assessment_id = saved_assessment(ann)
    assert client.get(f"/api/v1/assessments/{assessment_id}", headers=bearer(ann)).status_code == 200
    read = db.scalar(select(AuditEvent).where(AuditEvent.action == "saved_assessment.read"))
    assert (read.actor_user_id, read.actor_role, read.record_id, read.client_address, read.outcome) == (
        ann.id, "patient", assessment_id, "testclient", "allowed")
    assert "pain" not in read.detail and "numbness" not in read.detail


def test_csv_export_neutralises_spreadsheet_formulas(db):
    audit.record(db, actor=ANONYMOUS, action="sign_in", record_type="user", record_id="=HYPERLINK(1)",
                 outcome=Outcome.failed)
    exported = audit.to_csv(audit.search(db, filters=audit.AuditFilter()))
    assert "'=HYPERLINK(1)" in exported


def test_audit_search_filters_by_actor_action_outcome_and_time(db):
    from datetime import timedelta

    from fusioncare.accounts.models import utcnow

    audit.record(db, actor=OWNER, action="sign_in", record_type="user", record_id=1, outcome=Outcome.allowed)
    audit.record(db, actor=ANONYMOUS, action="sign_in", record_type="user", record_id=1, outcome=Outcome.failed)
    audit.record(db, actor=OWNER, action="sign_out", record_type="user", record_id=1, outcome=Outcome.allowed)

    def count(**filters) -> int:
        return len(audit.search(db, filters=audit.AuditFilter(**filters)))

    assert count() == 3
    assert count(actor_user_id=1) == 2
    assert count(action="sign_in", outcome="failed") == 1
    assert count(since=utcnow() + timedelta(minutes=1)) == 0
    assert count(until=utcnow() + timedelta(minutes=1)) == 3


def test_audit_csv_neutralises_every_cell_a_spreadsheet_would_run_as_a_formula():
    import csv
    import io
    from datetime import UTC, datetime

    cells = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "plain"]
    events = [AuditEvent(id=i, occurred_at=datetime(2026, 1, 1, tzinfo=UTC), action="x", record_type="y",
                         outcome="allowed", detail=cell) for i, cell in enumerate(cells)]
    rows = list(csv.DictReader(io.StringIO(audit.to_csv(events))))
    assert [row["detail"] for row in rows] == ["'" + c for c in cells[:-1]] + ["plain"]
