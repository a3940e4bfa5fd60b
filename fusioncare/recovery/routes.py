"""Recovery tracker API: diary entries, questionnaires, trends, the diary as CSV, and sharing with a provider."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from fusioncare.accounts.deps import CurrentProvider, CurrentUser, RequestActor
from fusioncare.api.errors import documented
from fusioncare.deps import DbSession
from fusioncare.inputs import Day, RecordKey
from fusioncare.recovery import pdf, service, sharing
from fusioncare.recovery.models import DiaryEntry, QuestionnaireResponse, RecoveryProfile, RecoveryShare
from fusioncare.recovery.schemas import (
    DiaryEntryCreate,
    DiaryEntryRead,
    ProviderChoiceRead,
    QuestionnaireCreate,
    QuestionnaireRead,
    RecoveryProfileRead,
    RecoveryProfileUpdate,
    ShareCreate,
    SharedPatientRead,
    ShareRead,
    TrendsRead,
)
from fusioncare.triage.schemas import AssessmentResult

router = APIRouter(tags=["recovery"])

_401 = documented(401, "Not signed in, or the bearer token is invalid, expired or revoked.")
_404_ENTRY = documented(404, "No such diary entry, or not yours.")
_404_RESPONSE = documented(404, "No such questionnaire response, or not yours.")
_422 = documented(422, "Bad input; the message names the field and what is allowed. Nothing was stored.")
_404_SHARE = documented(404, "No such share: never made, revoked, or not shared with you.")
_404_PROVIDER = documented(404, "Not a verified provider.")
RecordId = Annotated[RecordKey, Path(description="A record's id.")]


def entry_read(entry: DiaryEntry, *, updated_existing: bool = False, with_safety: bool = True) -> DiaryEntryRead:
    """``with_safety`` False leaves out the safety re-check's assessment (a provider without the patient's consent
    to see assessments)."""
    message = f"Updated your entry for {entry.entry_date.isoformat()}." if updated_existing else ""
    return DiaryEntryRead(
        id=entry.id, date=entry.entry_date, leg_pain=entry.leg_pain, back_pain=entry.back_pain,
        symptoms=entry.symptoms, medications=entry.medications, treatments_started=entry.treatments_started,
        treatments_stopped=entry.treatments_stopped, exercise_minutes=entry.exercise_minutes,
        sleep_quality=entry.sleep_quality, note=entry.note, created_at=entry.created_at, updated_at=entry.updated_at,
        updated_existing=updated_existing, message=message,
        safety=AssessmentResult.model_validate(entry.safety) if entry.safety and with_safety else None,
        safety_seen=entry.safety_seen_at is not None,
    )


def response_read(response: QuestionnaireResponse) -> QuestionnaireRead:
    return QuestionnaireRead(id=response.id, instrument=response.instrument, answers=response.answers,
                             score=response.score, band=response.band, interpretation=response.interpretation,
                             completed_at=response.completed_at)


@router.post("/diary/entries", status_code=201, response_model=DiaryEntryRead,
             responses={200: {"description": "The day already had an entry; it was replaced (`updated_existing`).",
                              "model": DiaryEntryRead}, **_401, **_422})
def create_diary_entry(body: DiaryEntryCreate, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    """Save today's (or a past day's) entry. A second entry for the same day updates the first and says so: the
    fields sent replace the stored ones, fields left out keep theirs. The safety re-check runs on every save."""
    entry, updated = service.save_entry(db, actor=actor, data=body)
    return JSONResponse(entry_read(entry, updated_existing=updated).model_dump(mode="json"),
                        status_code=200 if updated else 201)


@router.get("/diary/entries", response_model=list[DiaryEntryRead], responses=_401)
def list_diary_entries(user: CurrentUser, actor: RequestActor, db: DbSession) -> list[DiaryEntryRead]:
    """My diary, newest first."""
    return [entry_read(e) for e in service.list_entries(db, actor=actor)]


@router.get("/diary/entries/{entry_id}", response_model=DiaryEntryRead, responses={**_404_ENTRY, **_401})
def read_diary_entry(entry_id: RecordId, actor: RequestActor, db: DbSession) -> DiaryEntryRead:
    entry = service.read_entry(db, actor=actor, entry_id=entry_id)
    return entry_read(entry, with_safety=sharing.may_see_assessments(db, actor=actor, owner_id=entry.owner_id))


@router.post("/diary/entries/{entry_id}/safety-seen", response_model=DiaryEntryRead,
             responses={**_404_ENTRY, **_401})
def mark_safety_seen(entry_id: RecordId, actor: RequestActor, db: DbSession) -> DiaryEntryRead:
    """I have read this entry's safety re-check result: the tracker stops listing it (the result is kept)."""
    return entry_read(service.mark_safety_seen(db, actor=actor, entry_id=entry_id))


def profile_read(profile: RecoveryProfile) -> RecoveryProfileRead:
    return RecoveryProfileRead.model_validate(profile, from_attributes=True)


@router.get("/recovery/profile", response_model=RecoveryProfileRead | None, responses=_401)
def read_profile(user: CurrentUser, actor: RequestActor, db: DbSession) -> RecoveryProfileRead | None:
    """My operation (date, region, levels, approach, surgeon), long-standing symptoms, name and date of birth;
    null when not recorded yet."""
    profile = service.profile_for(db, actor=actor)
    return profile_read(profile) if profile else None


@router.put("/recovery/profile", response_model=RecoveryProfileRead, responses={**_401, **_422})
def update_profile(body: RecoveryProfileUpdate, user: CurrentUser, actor: RequestActor,
                   db: DbSession) -> RecoveryProfileRead:
    """Record my operation once (fields left out keep what is stored). The diary refuses days before the operation
    date, and its safety re-check passes the operation and the long-standing symptoms to the assessment."""
    return profile_read(service.save_profile(db, actor=actor, data=body))


@router.get("/diary/export.csv", response_class=Response, responses={
    200: {"description": "My diary as CSV, oldest first.", "content": {"text/csv": {}}}, **_401})
def export_diary_csv(user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    return Response(service.diary_csv(db, actor=actor), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="fusioncare-diary.csv"'})


@router.post("/questionnaires", status_code=201, response_model=QuestionnaireRead, responses={**_401, **_422})
def create_questionnaire_response(body: QuestionnaireCreate, user: CurrentUser, actor: RequestActor,
                                  db: DbSession) -> QuestionnaireRead:
    """Score and save a PEG-3, PGIC or ODI (ten section scores, null for a skipped one)."""
    return response_read(service.save_questionnaire(db, actor=actor, data=body))


@router.get("/questionnaires/{response_id}", response_model=QuestionnaireRead, responses={**_404_RESPONSE, **_401})
def read_questionnaire_response(response_id: RecordId, actor: RequestActor, db: DbSession) -> QuestionnaireRead:
    return response_read(service.read_questionnaire(db, actor=actor, response_id=response_id))


BaselineFrom = Annotated[Day | None, Query(
    description="Use the first record on or after this day as the baseline (default: the first record).")]


@router.get("/recovery/trends", response_model=TrendsRead, responses={**_401, **_422})
def recovery_trends(user: CurrentUser, actor: RequestActor, db: DbSession, baseline_from: BaselineFrom = None,
                    ) -> TrendsRead:
    """Change from baseline per measure, judged against its minimal clinically important difference."""
    return service.trends_for(db, actor=actor, baseline_from=baseline_from)


@router.get("/recovery/summary.pdf", response_class=Response, responses={
    200: {"description": "The visit summary as a PDF file.", "content": {"application/pdf": {}}}, **_401})
def visit_summary_pdf(user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    """One page for the doctor: trends, the leg pain chart, latest scores, treatments, medications, assessment."""
    return _pdf_response(service.visit_summary_for(db, actor=actor))


def _pdf_response(summary: service.VisitSummary) -> Response:
    return Response(pdf.visit_summary_pdf(summary), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="fusioncare-visit-summary.pdf"'})


# --- sharing with a provider the patient chose ---------------------------------------------------


def share_read(db: Session, found: RecoveryShare) -> ShareRead:
    return ShareRead(id=found.id, npi=found.npi, provider_name=sharing.provider_name(db, npi=found.npi),
                     share_assessments=found.share_assessments, created_at=found.created_at)


@router.get("/recovery/shares", response_model=list[ShareRead], responses=_401)
def list_shares(user: CurrentUser, actor: RequestActor, db: DbSession) -> list[ShareRead]:
    """The providers who can read my recovery record now."""
    return [share_read(db, s) for s in sharing.list_shares(db, actor=actor)]


@router.get("/recovery/shares/suggestions", response_model=list[ProviderChoiceRead], responses=_401)
def share_suggestions(user: CurrentUser, actor: RequestActor, db: DbSession) -> list[ProviderChoiceRead]:
    """Verified providers I have appointments with and do not share with yet."""
    return [ProviderChoiceRead(npi=c.npi, name=c.name) for c in sharing.suggestions(db, actor=actor)]


@router.post("/recovery/shares", status_code=201, response_model=ShareRead, responses={
    200: {"description": "Already shared with this provider; the existing share.", "model": ShareRead},
    **_401, **_422})
def create_share(body: ShareCreate, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    """Let a verified provider (by NPI) read my diary, questionnaires, trends and visit summary; my assessments
    only with ``share_assessments``. Sharing again with the same provider updates that choice."""
    found, created = sharing.share(db, actor=actor, npi=body.npi, share_assessments=body.share_assessments)
    return JSONResponse(share_read(db, found).model_dump(mode="json"), status_code=201 if created else 200)


@router.delete("/recovery/shares/{share_id}", status_code=204, responses={**_404_SHARE, **_401})
def revoke_share(share_id: RecordId, actor: RequestActor, db: DbSession) -> Response:
    """Stop sharing; the provider loses access at once."""
    sharing.revoke(db, actor=actor, share_id=share_id)
    return Response(status_code=204)


@router.get("/provider/shared", response_model=list[SharedPatientRead], responses={**_404_PROVIDER, **_401})
def shared_with_me(provider: CurrentProvider, actor: RequestActor, db: DbSession) -> list[SharedPatientRead]:
    """For a verified provider: the patients who share their recovery record with them."""
    return [SharedPatientRead(share_id=p.share_id, patient_email=p.patient_email, shared_since=p.shared_since)
            for p in sharing.shared_with_me(db, actor=actor)]


@router.get("/provider/shared/{share_id}/trends", response_model=TrendsRead, responses={**_404_SHARE, **_401, **_422})
def shared_trends(share_id: RecordId, actor: RequestActor, db: DbSession, baseline_from: BaselineFrom = None,
                  ) -> TrendsRead:
    return sharing.shared_trends(db, actor=actor, share_id=share_id, baseline_from=baseline_from)


@router.get("/provider/shared/{share_id}/entries", response_model=list[DiaryEntryRead],
            responses={**_404_SHARE, **_401})
def shared_entries(share_id: RecordId, actor: RequestActor, db: DbSession) -> list[DiaryEntryRead]:
    """The patient's diary, newest first (each entry also at GET /diary/entries/{id}); safety re-checks only with
    the patient's consent to share assessments."""
    entries, with_safety = sharing.shared_entries(db, actor=actor, share_id=share_id)
    return [entry_read(e, with_safety=with_safety) for e in entries]


@router.get("/provider/shared/{share_id}/questionnaires", response_model=list[QuestionnaireRead],
            responses={**_404_SHARE, **_401})
def shared_questionnaires(share_id: RecordId, actor: RequestActor, db: DbSession) -> list[QuestionnaireRead]:
    """The patient's questionnaires, newest first."""
    return [response_read(r) for r in sharing.shared_questionnaires(db, actor=actor, share_id=share_id)]


@router.get("/provider/shared/{share_id}/summary.pdf", response_class=Response, responses={
    200: {"description": "The patient's visit summary as a PDF file.", "content": {"application/pdf": {}}},
    **_404_SHARE, **_401})
def shared_summary_pdf(share_id: RecordId, actor: RequestActor, db: DbSession) -> Response:
    return _pdf_response(sharing.shared_summary(db, actor=actor, share_id=share_id))
