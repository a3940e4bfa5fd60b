"""Service functions other domains call instead of reading the users and saved_assessments tables."""

from __future__ import annotations

from sqlalchemy import func, select

from fusioncare.accounts import service
from fusioncare.accounts.audit import Actor
from fusioncare.accounts.models import User
from fusioncare.directory.npi import with_check_digit
from fusioncare.triage import records
from tests.accounts.conftest import ASSESSMENT_REQUEST, ASSESSMENT_RESULT

VERIFIED, CLAIMED, UNKNOWN = (with_check_digit(n) for n in ("160000001", "160000002", "160000003"))


def test_verified_provider_npis_names_only_npis_an_admin_verified(db, make_person):
    make_person("verified", npi=VERIFIED, verified=True)
    make_person("claimed", npi=CLAIMED)

    assert service.verified_provider_npis(db, npis=[VERIFIED, CLAIMED, UNKNOWN]) == {VERIFIED}
    assert service.verified_provider_npis(db, npis=[]) == set()


def test_contact_email_is_the_accounts_address_or_none_once_it_is_gone(db, make_person):
    ann = make_person("ann")

    assert service.contact_email(db, user_id=ann.id) == "ann@example.org"
    assert service.contact_email(db, user_id=ann.id + 1000) is None


def test_demo_provider_accounts_are_verified_and_made_once(db, make_person):
    make_person("claimed", npi=CLAIMED, verified=True)
    emails = {VERIFIED: "dr.a@demo.fusioncare.test", CLAIMED: "dr.b@demo.fusioncare.test"}

    assert service.ensure_demo_provider_accounts(db, emails_by_npi=emails, password="demo password 2026") == 1
    assert service.ensure_demo_provider_accounts(db, emails_by_npi=emails, password="demo password 2026") == 0
    assert service.verified_provider_npis(db, npis=emails) == {VERIFIED, CLAIMED}
    assert db.scalar(select(func.count()).select_from(User).where(User.email.like("dr.%"))) == 1


def test_latest_saved_assessment_id_and_its_summary(db, make_person):
    ann = make_person("ann")
    assert records.latest_id_for_owner(db, owner_id=ann.id) is None
    actor = Actor.of(ann.user, "test")
    records.save(db, actor=actor, request=ASSESSMENT_REQUEST, result=ASSESSMENT_RESULT)
    newest = records.save(db, actor=actor, request=ASSESSMENT_REQUEST,
                          result={**ASSESSMENT_RESULT, "headline": "Newest"}).id

    assert records.latest_id_for_owner(db, owner_id=ann.id) == newest
    assert records.summary(db, assessment_id=newest) == {"urgency": "soon", "headline": "Newest"}
    assert records.summary(db, assessment_id="no-such-id") is None
