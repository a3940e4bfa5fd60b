"""Find My Doctor: an assessment, a place and preferences -> doctors grouped by specialty, ranked, with reasons.

Ranking (docs/matching.md has the table): profiles the provider confirmed come before unconfirmed ones; within
each tier the score decides, then distance, then NPI, so the same inputs always give the same order. The score
adds specialty fit (primary taxonomy 40, secondary 20), the assessment's treatment options the provider offers
(10 each, at most 30), closeness (up to 20, linear to zero at the radius), speaking the asked language (10) and
accepting new patients (10, or -10 when they say they are not) and the soonest opening to book (up to 10: 10 now,
falling linearly to 0 at 14 days; nothing without an open slot). Every bonus but the specialty fit is at most
half the 20 points between a primary and a secondary fit. Insurance and telehealth are filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fusioncare.directory import cms_service
from fusioncare.directory.catalog import INSURANCE_PLANS, LANGUAGES
from fusioncare.directory.errors import InvalidSearch
from fusioncare.directory.models import Provider
from fusioncare.directory.names import display_case
from fusioncare.directory.schemas import ProviderEvidence, ProviderLocation, ProviderRead, ProviderSearch
from fusioncare.directory.service import SearchHit, nearest_emergency_hospitals, resolve_place, search_providers
from fusioncare.display import when_short
from fusioncare.knowledge.loader import Pack, get_pack
from fusioncare.matching.errors import InvalidMatch
from fusioncare.matching.schemas import (
    EmergencyGuidance,
    EmergencyHospital,
    MatchedProvider,
    MatchedSpecialty,
    MatchGroup,
    MatchPlace,
    MatchRequest,
    MatchResponse,
    ProcedureEvidence,
    SoonestOpening,
)
from fusioncare.scheduling import service as scheduling
from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult, RecommendedSpecialty, Treatment, Urgency
from fusioncare.triage.service import assess

PRIMARY_FIT = 40.0
SECONDARY_FIT = 20.0
PER_SERVICE = 10.0
MAX_SERVICES = 30.0
CLOSENESS = 20.0
LANGUAGE = 10.0
ACCEPTING_NEW = 10.0
NOT_ACCEPTING_NEW = -10.0
SOONEST_OPENING = 10.0  # for an opening right now, falling linearly to 0 at scheduling.SOONEST_HORIZON
# Medicare procedure evidence: EVIDENCE * n / (n + EVIDENCE_HALF) for n procedures (or patients) of a suggested
# treatment in the latest year: diminishing, and never reaching EVIDENCE (half the primary/secondary fit gap).
EVIDENCE = 10.0
EVIDENCE_HALF = 50.0
# How many of the nearest matching providers per specialty are ranked (pages of the directory search).
MAX_CANDIDATES = 300
EMERGENCY_RADIUS_MILES = 50
EMERGENCY_HOSPITALS = 5


@dataclass(frozen=True, slots=True)
class _Ranked:
    key: tuple
    provider: MatchedProvider


def match(*, db: Session, request: MatchRequest, pack: Pack | None = None, now: datetime | None = None,
          use_openings: bool = True, use_evidence: bool = True) -> MatchResponse:
    """Doctors for the assessment near the place, grouped in the assessment's specialty order.

    ``use_openings=False`` leaves out the soonest-opening lookup, ``use_evidence=False`` the Medicare figures (the
    benchmark measures what each costs).
    """
    pack = pack or get_pack()
    now = now or datetime.now(UTC)
    result = _result_of(request.assessment, pack)
    try:
        place = resolve_place(near=request.near)
    except InvalidSearch as exc:
        raise InvalidMatch(exc.field, exc.field_message) from None
    out = MatchResponse(urgency=result.urgency, radius_miles=request.radius_miles, emergency=None, groups=[],
                        place=MatchPlace(lat=place.lat, lon=place.lon, zip=place.zip_code, label=place.label))
    if result.urgency is Urgency.emergency:
        out.emergency = _emergency(db=db, result=result, near=request.near)
        return out
    treatments = {option.code.value: option.name for option in result.treatment_options}
    candidates = [(specialty, _candidates(db=db, request=request, specialty=specialty.code.value))
                  for specialty in result.recommended_specialties]
    openings = scheduling.soonest_openings(
        db=db, npis={hit.provider.npi for _, hits in candidates for hit in hits}, now=now) if use_openings else {}
    every_npi = list({hit.provider.npi for _, hits in candidates for hit in hits})
    # Two queries for every group: the Medicare facts and the procedure figures of every suggested treatment.
    medicare = cms_service.medicare_flags(db=db, npis=every_npi) if use_evidence else {}
    sums = cms_service.procedure_sums(db=db, npis=every_npi, treatments=list(treatments),
                                      pack=pack) if use_evidence else []
    for specialty, hits in candidates:
        evidence = cms_service.evidence_for(
            sums=sums, npis={hit.provider.npi for hit in hits},
            treatments=_evidence_treatments(pack, treatments, specialty), pack=pack) if sums else {}
        ranked = sorted((_rank(hit, specialty=specialty, treatments=treatments, request=request,
                               opening=openings.get(hit.provider.npi), now=now,
                               evidence=evidence.get(hit.provider.npi), medicare=medicare.get(hit.provider.npi),
                               pack=pack) for hit in hits),
                        key=lambda r: r.key)
        out.groups.append(MatchGroup(
            specialty=MatchedSpecialty(code=specialty.code, name=specialty.name, why=specialty.why),
            total=len(ranked), results=[r.provider for r in ranked[: request.limit_per_group]]))
    return out


def _evidence_treatments(pack: Pack, treatments: dict[str, str], specialty: RecommendedSpecialty) -> list[str]:
    """The suggested treatments this specialty provides (the pack's treatment table), in the assessment's order;
    all suggested ones if it provides none of them."""
    mine = [code for code in treatments
            if specialty.code in pack.treatment_by_code[Treatment(code)].specialties]
    return mine or list(treatments)


def _result_of(assessment: AssessmentRequest | AssessmentResult, pack: Pack) -> AssessmentResult:
    return assessment if isinstance(assessment, AssessmentResult) else assess(request=assessment, pack=pack)


def _candidates(*, db: Session, request: MatchRequest, specialty: str) -> list[SearchHit]:
    """Every provider of the specialty within the radius that passes the filters (the nearest MAX_CANDIDATES)."""
    hits: list[SearchHit] = []
    cursor = None
    while len(hits) < MAX_CANDIDATES:
        page = search_providers(db=db, params=ProviderSearch(
            specialty=specialty, near=request.near, radius_miles=request.radius_miles, insurance=request.insurance,
            telehealth=request.telehealth or None,
            accepts_medicare_assignment=request.accepts_medicare_assignment or None, limit=100, cursor=cursor))
        hits.extend(page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    return hits[:MAX_CANDIDATES]


def _rank(hit: SearchHit, *, specialty: RecommendedSpecialty, treatments: dict[str, str],
          request: MatchRequest, opening: scheduling.Opening | None, now: datetime,
          evidence: ProviderEvidence | None = None, medicare: tuple[str | None, bool | None] | None = None,
          pack: Pack | None = None) -> _Ranked:
    p: Provider = hit.provider
    distance = hit.distance_miles
    taxonomies = set(specialty.taxonomy_codes)
    primary = any(t.get("primary") and t["code"] in taxonomies for t in p.taxonomies)
    offered = [code for code in treatments if code in p.services]
    score = PRIMARY_FIT if primary else SECONDARY_FIT
    reasons = [f"{specialty.name}: their main registered specialty" if primary else
               f"{specialty.name} is one of their registered specialties, not their main one"]
    # What the provider says about their practice (treatments, plans, languages, new patients, telehealth) counts
    # in the score within its tier either way, but is stated as a reason only once they confirmed their profile:
    # an unconfirmed card says only what is known (the registry's specialty and place, and a time to book here).
    known = p.profile_confirmed
    if offered:
        score += min(PER_SERVICE * len(offered), MAX_SERVICES)
        names = [treatments[code] for code in offered]
        if known:
            reasons.append(f"Offers {_join(names)}, which your assessment lists")
    procedure = None
    if evidence is not None:
        # Public figures, not the provider's own word: stated whether or not they confirmed their profile.
        score += EVIDENCE * evidence.number / (evidence.number + EVIDENCE_HALF)
        dataset = pack.medicare_datasets.get("utilization") if pack is not None else None
        procedure = ProcedureEvidence(treatment=evidence.treatment, year=evidence.year, number=evidence.number,
                                      text=evidence.reason, caveat=dataset.short_caveat if dataset else "",
                                      source=dataset.name if dataset else "CMS", is_demo=evidence.is_demo)
        reasons.append(evidence.reason)
    score += CLOSENESS * max(0.0, 1 - distance / request.radius_miles)
    reasons.append(f"{distance:.1f} miles away")
    if request.insurance is not None and known:
        reasons.append(f"Accepts your plan ({INSURANCE_PLANS[request.insurance.value]})")
    if request.language is not None:
        if request.language.value in p.languages:
            score += LANGUAGE
            if known:
                reasons.append(f"Speaks {LANGUAGES[request.language.value]}")
        elif known:
            reasons.append(f"Has not said they speak {LANGUAGES[request.language.value]}")
    if p.accepting_new is True:
        score += ACCEPTING_NEW
        if known:
            reasons.append("Accepting new patients")
    elif p.accepting_new is False:
        score += NOT_ACCEPTING_NEW
        if known:
            reasons.append("Not accepting new patients at the moment")
    assignment, medicare_video = medicare if medicare is not None else (None, None)
    if p.telehealth and known:
        reasons.append("Offers telehealth visits")
    elif p.telehealth is None and medicare_video and request.telehealth:
        reasons.append("Offers video visits, according to Medicare's records")
    if request.accepts_medicare_assignment and assignment == "always":
        reasons.append("Accepts the Medicare-approved amount as full payment, according to Medicare's records")
    soonest = None
    if opening is not None:
        soonest = _soonest(p.npi, opening)
        wait = (opening.slot.start - now) / scheduling.SOONEST_HORIZON
        score += SOONEST_OPENING * min(1.0, max(0.0, 1 - wait))
        reasons.append(f"Soonest opening: {soonest.label}")
    if not known:
        reasons.append("Profile not confirmed by the provider: call to check insurance"
                       + ("" if opening is not None else " and whether they see new patients"))
    score = round(score, 2)
    summary = ProviderRead.from_provider(p, distance)
    provider = MatchedProvider(
        npi=p.npi, name=summary.name, credential=p.credential, score=score, reasons=reasons,
        distance_miles=round(distance, 2), primary_specialty_match=primary, matching_services=offered,
        accepting_new=p.accepting_new, telehealth=p.telehealth, insurance=list(p.insurance_plans),
        languages=list(p.languages), profile_confirmed=p.profile_confirmed, location=summary.location,
        phone=p.phone, is_demo=p.is_demo, soonest_opening=soonest, procedure_evidence=procedure,
        medicare_assignment=assignment)
    return _Ranked(key=(not p.profile_confirmed, -score, distance, p.npi), provider=provider)


def opening_label(moment: datetime) -> str:
    """'Tue 3 Dec, 9:00 am': the day and the clock time people say, in the moment's own zone."""
    return when_short(moment)


def _soonest(npi: str, opening: scheduling.Opening) -> SoonestOpening:
    zone = ZoneInfo(opening.time_zone)
    start = opening.slot.start.astimezone(zone)
    return SoonestOpening(start=start, end=opening.slot.end.astimezone(zone), type=opening.slot.type_code,
                          time_zone=opening.time_zone, label=opening_label(start),
                          book_path=f"/doctors/{npi}/book?" + urlencode({"type": opening.slot.type_code,
                                                                         "start": start.isoformat()}))


def _emergency(*, db: Session, result: AssessmentResult, near: str) -> EmergencyGuidance:
    found = nearest_emergency_hospitals(db=db, near=near, radius_miles=EMERGENCY_RADIUS_MILES,
                                        limit=EMERGENCY_HOSPITALS)
    return EmergencyGuidance(headline=result.headline, next_steps=result.next_steps, hospitals=[
        EmergencyHospital(npi=h.provider.npi, name=display_case(h.provider.display_name),
                          distance_miles=round(h.distance_miles, 2), phone=h.provider.phone,
                          is_demo=h.provider.is_demo, location=_location(h.provider))
        for h in found.hits])


def _location(p: Provider) -> ProviderLocation:
    return ProviderRead.from_provider(p).location


def _join(names: list[str]) -> str:
    lowered = [name[0].lower() + name[1:] for name in names]
    return lowered[0] if len(lowered) == 1 else ", ".join(lowered[:-1]) + " and " + lowered[-1]

