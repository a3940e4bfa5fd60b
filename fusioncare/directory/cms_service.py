"""What the CMS public data says about providers: Medicare procedure volumes, practices and Medicare facts, and the
strongest procedure evidence per provider for the treatments an assessment suggests (for matching)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fusioncare.directory.models import PRACTICE_FIELDS, ClinicianFacts, ClinicianFile, ProcedureVolume
from fusioncare.directory.names import display_case
from fusioncare.directory.schemas import (
    DataSource,
    MedicareFacts,
    MedicarePractice,
    ProcedureVolumeRead,
    ProviderEvidence,
)
from fusioncare.knowledge.loader import Pack


def _sums(db: Session, npis: list[str], codes: list[str] | None = None) -> list[tuple[str, str, int, int, float, bool]]:
    """(npi, code, year, patients, services, is_demo) summed over places of service."""
    stmt = (select(ProcedureVolume.npi, ProcedureVolume.hcpcs_code, ProcedureVolume.data_year,
                   func.sum(ProcedureVolume.patients), func.sum(ProcedureVolume.services),
                   func.max(case((ProcedureVolume.is_demo, 1), else_=0)))
            .where(ProcedureVolume.npi.in_(npis))
            .group_by(ProcedureVolume.npi, ProcedureVolume.hcpcs_code, ProcedureVolume.data_year))
    if codes is not None:
        stmt = stmt.where(ProcedureVolume.hcpcs_code.in_(codes))
    return [(n, c, int(y), int(p), float(s), bool(d)) for n, c, y, p, s, d in db.execute(stmt)]


def procedure_volumes(*, db: Session, npi: str, pack: Pack) -> list[ProcedureVolumeRead]:
    """Every year's figures of the pack's codes for one provider, newest year first, then in the pack's order (a
    patient sum over both places of service can count a patient seen at both twice; CMS publishes no other way)."""
    dataset = pack.medicare_datasets.get("utilization")
    order = {code: i for i, code in enumerate(pack.procedure_codes)}
    out = []
    for _, code, year, patients, services, is_demo in _sums(db, [npi]):
        if code not in pack.procedure_codes:
            continue  # a code the pack no longer names
        evidence, entry = pack.procedure_codes[code]
        out.append(ProcedureVolumeRead(
            code=code, description=entry.meaning, plain_words=entry.patient_words, add_on=entry.add_on,
            treatment=evidence.treatment.value, year=year, patients=patients, services=round(services, 1),
            source=DataSource(dataset=dataset.name if dataset else "CMS", year=year, is_demo=is_demo)))
    out.sort(key=lambda v: (-v.year, order[v.code]))
    return out


def medicare_facts(*, db: Session, npi: str, pack: Pack) -> MedicareFacts | None:
    """What the Doctors and Clinicians file says about one provider; None when it has nothing on them."""
    facts = db.get(ClinicianFacts, npi)
    if facts is None:
        return None
    file = db.get(ClinicianFile, 1)  # written with the rows, in the import's transaction
    if file is None:
        return None
    practices: list[MedicarePractice] = []
    seen: set[tuple] = set()
    for values in facts.practices:
        p = dict(zip(PRACTICE_FIELDS, values, strict=True))
        street = ", ".join(display_case(x) for x in (p["address_line1"], p["address_line2"]) if x)
        city = p["city"] or ""
        place = " ".join(x for x in (display_case(city) + ("," if city else ""), p["state"] or "",
                                     _zip_words(p["zip_code"])) if x)
        practice = MedicarePractice(name=_organization_case(p["name"]) if p["name"] else None,
                                    address=", ".join(x for x in (street, place) if x) or None, phone=p["phone"])
        key = (practice.name, practice.address, practice.phone)
        if key not in seen:
            seen.add(key)
            practices.append(practice)
    dataset = pack.medicare_datasets.get("clinicians")
    return MedicareFacts(
        accepts_assignment=facts.accepts_assignment, telehealth=facts.telehealth, practices=practices,
        graduation_year=facts.graduation_year,
        medical_school=display_case(facts.medical_school) if facts.medical_school and facts.medical_school != "OTHER"
        else None,
        specialty=display_case(facts.specialty) if facts.specialty else None,
        source=DataSource(dataset=dataset.name if dataset else "CMS", year=file.data_year,
                          is_demo=file.is_demo),
        caveat=dataset.caveat if dataset else "")


_LEGAL_FORMS = re.compile(r"\b(Llc|Pllc|Pc|Llp|Lp|Pa|Sc|Md)\b")


def _organization_case(name: str) -> str:
    """'SPINE & PAIN ASSOCIATES, LLC' -> 'Spine & Pain Associates, LLC' (legal forms stay in capitals)."""
    return _LEGAL_FORMS.sub(lambda m: m.group(1).upper(), display_case(name))


def _zip_words(zip_code: str | None) -> str:
    if not zip_code:
        return ""
    return f"{zip_code[:5]}-{zip_code[5:]}" if len(zip_code) == 9 else zip_code


@dataclass(frozen=True, slots=True)
class _Measure:
    services: float = 0.0
    patients: int = 0


ProcedureSums = list[tuple[str, str, int, int, float, bool]]


def procedure_sums(*, db: Session, npis: list[str], treatments: list[str], pack: Pack) -> ProcedureSums:
    """One query for a whole batch of providers: (npi, code, year, patients, services, is_demo) of the non-add-on
    codes of ``treatments``, summed over places of service (feed it to ``evidence_for``)."""
    codes = [c.code for e in pack.procedure_evidence if e.treatment.value in treatments for c in e.codes
             if not c.add_on]
    if not npis or not codes:
        return []
    return _sums(db, npis, codes)


def evidence_for(*, sums: ProcedureSums, npis: set[str], treatments: list[str],
                 pack: Pack) -> dict[str, ProviderEvidence]:
    """Per provider of ``npis``, the strongest evidence in ``sums`` that they perform one of ``treatments`` for
    Medicare patients, from their latest year with figures for it: npi -> evidence (providers without are absent).

    A treatment's number is what its ``measure`` in procedure_codes.yaml says: the services of its codes that
    are not add-ons (add-ons count extra levels of one procedure), or the largest patient count of one such code
    (patients are never summed across codes: one patient is counted under each code they had).
    """
    wanted = [e for e in pack.procedure_evidence if e.treatment.value in treatments]
    codes = {c.code: e for e in wanted for c in e.codes if not c.add_on}
    found: dict[tuple[str, str, int], _Measure] = defaultdict(_Measure)
    demo: dict[str, bool] = {}
    for npi, code, year, patients, services, is_demo in sums:
        if npi not in npis or code not in codes:
            continue
        key = (npi, codes[code].treatment.value, year)
        m = found[key]
        found[key] = _Measure(services=m.services + services, patients=max(m.patients, patients))
        demo[npi] = demo.get(npi, False) or is_demo
    latest: dict[tuple[str, str], int] = {}
    for npi, treatment, year in found:
        latest[(npi, treatment)] = max(year, latest.get((npi, treatment), year))
    by_treatment = {e.treatment.value: e for e in wanted}
    best: dict[str, ProviderEvidence] = {}
    for (npi, treatment), year in latest.items():
        entry = by_treatment[treatment]
        m = found[(npi, treatment, year)]
        number = int(round(m.services)) if entry.measure == "services" else m.patients
        candidate = ProviderEvidence(treatment=treatment, year=year, number=number,
                                     reason=entry.phrase.format(number=f"{number:,}", year=year),
                                     is_demo=demo.get(npi, False))
        current = best.get(npi)
        if current is None or (candidate.number, -treatments.index(treatment)) > (
                current.number, -treatments.index(current.treatment)):
            best[npi] = candidate
    return best


def medicare_flags(*, db: Session, npis: list[str]) -> dict[str, tuple[str | None, bool | None]]:
    """npi -> (accepts_assignment, telehealth) from the Doctors and Clinicians file, for those it has."""
    if not npis:
        return {}
    rows = db.execute(select(ClinicianFacts.npi, ClinicianFacts.accepts_assignment, ClinicianFacts.telehealth)
                      .where(ClinicianFacts.npi.in_(npis)))
    return {npi: (assignment, telehealth) for npi, assignment, telehealth in rows}
