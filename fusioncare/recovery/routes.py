"""Recovery tracker API: diary entries, questionnaires, trends and the diary as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from fusioncare.accounts.deps import CurrentUser, RequestActor
from fusioncare.api.errors import documented
from fusioncare.deps import DbSession
from fusioncare.recovery import pdf, service
from fusioncare.recovery.models import DiaryEntry, QuestionnaireResponse
from fusioncare.recovery.schemas import (
    DiaryEntryCreate,
    DiaryEntryRead,
    QuestionnaireCreate,
    QuestionnaireRead,
    TrendsRead,
)
from fusioncare.triage.schemas import AssessmentResult

router = APIRouter(tags=["recovery"])

_401 = documented(401, "Not signed in, or the bearer token is invalid, expired or revoked.")
_404_ENTRY = documented(404, "No such diary entry, or not yours.")
_404_RESPONSE = documented(404, "No such questionnaire response, or not yours.")
_422 = documented(422, "Bad input; the message names the field and what is allowed. Nothing was stored.")
RecordId = Annotated[str, Path(min_length=1, max_length=32, description="A record's id.")]


def entry_read(entry: DiaryEntry, *, updated_existing: bool = False) -> DiaryEntryRead:
    message = f"Updated your entry for {entry.entry_date.isoformat()}." if updated_existing else ""
    return DiaryEntryRead(
        id=entry.id, date=entry.entry_date, leg_pain=entry.leg_pain, back_pain=entry.back_pain,
        symptoms=entry.symptoms, medications=entry.medications, treatments_started=entry.treatments_started,
        treatments_stopped=entry.treatments_stopped, exercise_minutes=entry.exercise_minutes,
        sleep_quality=entry.sleep_quality, note=entry.note, created_at=entry.created_at, updated_at=entry.updated_at,
        updated_existing=updated_existing, message=message,
        safety=AssessmentResult.model_validate(entry.safety) if entry.safety else None,
    )


def response_read(response: QuestionnaireResponse) -> QuestionnaireRead:
    return QuestionnaireRead(id=response.id, instrument=response.instrument, answers=response.answers,
                             score=response.score, band=response.band, interpretation=response.interpretation,
                             completed_at=response.completed_at)


@router.post("/diary/entries", status_code=201, response_model=DiaryEntryRead,
             responses={200: {"description": "The day already had an entry; it was replaced (`updated_existing`).",
                              "model": DiaryEntryRead}, **_401, **_422})
def create_diary_entry(body: DiaryEntryCreate, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    """Save today's (or a past day's) entry. A second entry for the same day replaces the first and says so."""
    entry, updated = service.save_entry(db, actor=actor, data=body)
    return JSONResponse(entry_read(entry, updated_existing=updated).model_dump(mode="json"),
                        status_code=200 if updated else 201)


@router.get("/diary/entries", response_model=list[DiaryEntryRead], responses=_401)
def list_diary_entries(user: CurrentUser, actor: RequestActor, db: DbSession) -> list[DiaryEntryRead]:
    """My diary, newest first."""
    return [entry_read(e) for e in service.list_entries(db, actor=actor)]


@router.get("/diary/entries/{entry_id}", response_model=DiaryEntryRead, responses={**_404_ENTRY, **_401})
def read_diary_entry(entry_id: RecordId, actor: RequestActor, db: DbSession) -> DiaryEntryRead:
    return entry_read(service.read_entry(db, actor=actor, entry_id=entry_id))


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


@router.get("/recovery/trends", response_model=TrendsRead, responses={**_401, **_422})
def recovery_trends(user: CurrentUser, db: DbSession, baseline_from: Annotated[date | None, Query(
        description="Use the first record on or after this day as the baseline (default: the first record).")] = None,
) -> TrendsRead:
    """Change from baseline per measure, judged against its minimal clinically important difference."""
    return service.trends(db, owner_id=user.id, baseline_from=baseline_from)


@router.get("/recovery/summary.pdf", response_class=Response, responses={
    200: {"description": "The visit summary as a PDF file.", "content": {"application/pdf": {}}}, **_401})
def visit_summary_pdf(user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    """One page for the doctor: trends, the leg pain chart, latest scores, treatments, medications, assessment."""
    summary = service.visit_summary_for(db, actor=actor)
    return Response(pdf.visit_summary_pdf(summary), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="fusioncare-visit-summary.pdf"'})
