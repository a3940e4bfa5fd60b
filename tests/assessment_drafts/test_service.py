"""Drafts on both databases: only the owner's secret reads one, never after it expires, expired ones are purged
on the next write, and changed answers forget an earlier save."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fusioncare.assessment_drafts import service as drafts
from fusioncare.assessment_drafts.models import AssessmentDraft

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_only_the_browser_holding_the_secret_reads_its_draft(db):
    mine, theirs = drafts.new_owner_secret(), drafts.new_owner_secret()
    draft = drafts.start(db, owner_secret=mine, now=NOW)
    assert len(draft.id) == 22 and draft.owner_key != mine
    assert drafts.get_owned(db, draft_id=draft.id, owner_secret=mine, now=NOW) is draft
    assert drafts.get_owned(db, draft_id=draft.id, owner_secret=theirs, now=NOW) is None
    assert drafts.get_owned(db, draft_id=draft.id, owner_secret=None, now=NOW) is None
    assert drafts.get_owned(db, draft_id="x" * 400, owner_secret=mine, now=NOW) is None


def test_a_draft_lives_two_hours_after_its_last_change(db):
    secret = drafts.new_owner_secret()
    draft = drafts.start(db, owner_secret=secret, now=NOW)
    later = NOW + timedelta(hours=1, minutes=59)
    drafts.update(db, draft=draft, answers=[("leg_pain", "4")], now=later)
    assert drafts.get_owned(db, draft_id=draft.id, owner_secret=secret, now=later + timedelta(hours=1)) is draft
    assert drafts.get_owned(db, draft_id=draft.id, owner_secret=secret, now=later + drafts.LIFETIME) is None


def test_expired_drafts_are_purged_on_every_write(db):
    old = drafts.start(db, owner_secret=drafts.new_owner_secret(), now=NOW)
    kept = drafts.start(db, owner_secret=drafts.new_owner_secret(), now=NOW + timedelta(hours=1))
    drafts.update(db, draft=kept, answers=[("age", "70")], now=NOW + timedelta(hours=2, seconds=1))
    db.expire_all()
    assert db.scalars(select(AssessmentDraft.id)).all() == [kept.id] and old.id != kept.id
    drafts.start(db, owner_secret=drafts.new_owner_secret(), now=NOW + timedelta(hours=9))
    assert db.scalar(select(func.count()).select_from(AssessmentDraft)) == 1


def test_changed_answers_forget_that_the_old_ones_were_saved(db, make_person, saved_assessment):
    person = make_person("dee")
    draft = drafts.start(db, owner_secret=drafts.new_owner_secret(), now=NOW)
    drafts.update(db, draft=draft, answers=[("leg_pain", "4")], now=NOW)
    drafts.mark_saved(db, draft=draft, saved_assessment_id=saved_assessment(person))
    drafts.update(db, draft=draft, answers=[("leg_pain", "4")], place={"near": "10001"}, now=NOW)
    assert draft.saved_assessment_id is not None
    drafts.update(db, draft=draft, answers=[("leg_pain", "5")], now=NOW)
    assert draft.saved_assessment_id is None
