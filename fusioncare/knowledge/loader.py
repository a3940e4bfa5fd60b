"""Loads a knowledge pack folder, validates it against its schema and the API contract, and caches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from fusioncare.knowledge.schemas import (
    ContributorEntry,
    ContributorFile,
    GlossaryFile,
    GlossaryTerm,
    ManagementFile,
    ManagementStrategy,
    MedicareDataset,
    PackMeta,
    ProcedureCode,
    ProcedureEvidenceFile,
    QuestionGroup,
    RiskFactorEntry,
    RiskFactorFile,
    Rule,
    RuleFile,
    Source,
    SourceFile,
    SpecialtyEntry,
    SpecialtyFile,
    SymptomEntry,
    SymptomFile,
    TreatmentEntry,
    TreatmentEvidence,
    TreatmentFile,
    UrgencyLevel,
    WarningSignEntry,
    WarningSignFile,
)
from fusioncare.triage.schemas import (
    CONTRACT_SPECIALTIES,
    Contributor,
    RiskFactor,
    Specialty,
    Symptom,
    Treatment,
    Urgency,
)
from fusioncare.validation import field_path

DEFAULT_PACK_DIR = Path(__file__).parent / "sciatica_after_fusion"

M = TypeVar("M", bound=BaseModel)


class PackError(Exception):
    """The knowledge pack cannot be used; the message names the file and the place inside it."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"knowledge pack file {file}: " + "; ".join(problems))


@dataclass(frozen=True, eq=False)
class Pack:
    """One validated condition pack. Lists keep the file order; the dicts index them by code.

    Compared and hashed by identity, so the engine can cache its compiled rules per pack.
    """

    directory: Path
    meta: PackMeta
    sources: dict[str, Source]
    question_groups: list[QuestionGroup]
    symptoms: list[SymptomEntry]
    contributors: list[ContributorEntry]
    treatments: list[TreatmentEntry]
    specialties: list[SpecialtyEntry]
    strategies: list[ManagementStrategy]
    red_flag_rules: list[Rule]
    triage_rules: list[Rule]
    risk_factors: list[RiskFactorEntry]
    warning_signs: list[WarningSignEntry]
    symptom_by_code: dict[Symptom, SymptomEntry] = field(repr=False)
    contributor_by_code: dict[Contributor, ContributorEntry] = field(repr=False)
    treatment_by_code: dict[Treatment, TreatmentEntry] = field(repr=False)
    specialty_by_code: dict[Specialty, SpecialtyEntry] = field(repr=False)
    urgency_levels: dict[Urgency, UrgencyLevel] = field(repr=False)
    glossary: list[GlossaryTerm] = field(default_factory=list, repr=False)
    # procedure_codes.yaml: the HCPCS/CPT codes that show a clinician performs a treatment (may be absent).
    procedure_evidence: list[TreatmentEvidence] = field(default_factory=list, repr=False)
    medicare_datasets: dict[str, MedicareDataset] = field(default_factory=dict, repr=False)

    @property
    def code(self) -> str:
        return self.meta.code

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def disclaimer(self) -> str:
        return self.meta.disclaimer

    @property
    def default_rule(self) -> Rule:
        return self.meta.default_rule

    @property
    def rules(self) -> list[Rule]:
        """Every rule in priority order: red flags first, then the triage rules, then the default rule."""
        return [*self.red_flag_rules, *self.triage_rules, self.meta.default_rule]

    @property
    def management_strategies(self) -> list[ManagementStrategy]:
        return self.strategies

    @property
    def red_flag_symptoms(self) -> list[Symptom]:
        """Symptoms that can raise urgency to urgent or emergency, in questionnaire order."""
        warning = {code for rule in self.red_flag_rules for code in rule.when.symptom_codes}
        return [s.code for s in self.symptoms if s.code in warning]

    def headline(self, urgency: Urgency) -> str:
        return self.urgency_levels[urgency].headline

    @property
    def long_standing_symptoms(self) -> frozenset[Symptom]:
        """Symptoms whose weight a long-standing report may lower (contract 1.1); all others count in full."""
        return frozenset(s.code for s in self.symptoms if s.may_be_long_standing)

    def symptoms_in_group(self, group: str) -> list[SymptomEntry]:
        return [s for s in self.symptoms if s.question_group == group]

    @cached_property
    def procedure_codes(self) -> dict[str, tuple[TreatmentEvidence, ProcedureCode]]:
        """HCPCS code -> (its treatment's evidence entry, the code entry), for every code the pack names."""
        return {c.code: (e, c) for e in self.procedure_evidence for c in e.codes}

    def source_names(self, codes: list[str]) -> str:
        """'NICE NG59: Low back pain and sciatica ... (2016, updated 2020); GIRFT ...' for a rule's or claim's
        sources."""
        return "; ".join(self.sources[c].citation for c in codes)


def _read(directory: Path, name: str, model: type[M]) -> M:
    path = directory / name
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(name, ["the file is missing"]) from None
    except yaml.YAMLError as exc:
        raise PackError(name, [f"not valid YAML ({exc})"]) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = [f"at {field_path(e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise PackError(name, found) from None


def _exactly(file: str, what: str, found: list[Any], expected: type[Enum]) -> None:
    """The pack must describe every contract code exactly once, no more and no fewer."""
    problems: list[str] = []
    seen: set[Any] = set()
    for index, code in enumerate(found):
        if code in seen:
            problems.append(f"at {what}[{index}].code: {code.value} is listed twice")
        seen.add(code)
    missing = [c.value for c in expected if c not in seen]
    if missing:
        problems.append(f"at {what}: these contract codes are not described: {', '.join(missing)}")
    if problems:
        raise PackError(file, problems)


def _check_references(
    file: str, label: str, rules: list[Rule], sources: dict[str, Source], *, red_flags: bool, seen_ids: set[str]
) -> None:
    problems: list[str] = []
    for index, rule in enumerate(rules):
        where = f"{label}[{index}]"
        if rule.id in seen_ids:
            problems.append(f"at {where}.id: rule id {rule.id} is used twice")
        seen_ids.add(rule.id)
        if rule.red_flag is not red_flags:
            kind = (
                "red_flags.yaml holds only red-flag rules" if red_flags else "triage_rules.yaml holds no red-flag rules"
            )
            problems.append(f"at {where}.red_flag: {kind}")
        for s_index, code in enumerate(rule.sources):
            if code not in sources:
                problems.append(f"at {where}.sources[{s_index}]: unknown source {code!r}; known: {', '.join(sources)}")
    if problems:
        raise PackError(file, problems)


def load_pack(directory: Path = DEFAULT_PACK_DIR) -> Pack:
    """Read and validate every file of a pack folder; raises PackError naming the file and the path in it."""
    directory = Path(directory)
    meta = _read(directory, "pack.yaml", PackMeta)
    sources = {s.id: s for s in _read(directory, "sources.yaml", SourceFile).sources}
    symptoms = _read(directory, "symptoms.yaml", SymptomFile).symptoms
    contributors = _read(directory, "contributors.yaml", ContributorFile).contributors
    treatments = _read(directory, "treatments.yaml", TreatmentFile).treatments
    specialties = _read(directory, "specialties.yaml", SpecialtyFile).specialties
    strategies = _read(directory, "management.yaml", ManagementFile).strategies
    red_flag_rules = _read(directory, "red_flags.yaml", RuleFile).rules
    triage_rules = _read(directory, "triage_rules.yaml", RuleFile).rules
    risk_factors = _read(directory, "risk_factors.yaml", RiskFactorFile).risk_factors
    warning_signs = _read(directory, "warning_signs.yaml", WarningSignFile).warning_signs

    _exactly("symptoms.yaml", "symptoms", [s.code for s in symptoms], Symptom)
    _exactly("contributors.yaml", "contributors", [c.code for c in contributors], Contributor)
    _exactly("treatments.yaml", "treatments", [t.code for t in treatments], Treatment)
    _exactly("specialties.yaml", "specialties", [s.code for s in specialties], Specialty)
    _exactly("risk_factors.yaml", "risk_factors", [r.code for r in risk_factors], RiskFactor)
    _exactly("pack.yaml", "urgency_levels", [u.code for u in meta.urgency_levels], Urgency)

    table = [
        f"at specialties[{i}]: name and taxonomy codes must be exactly {CONTRACT_SPECIALTIES[s.code]}"
        " (the contract table)"
        for i, s in enumerate(specialties)
        if (s.name, tuple(s.taxonomy_codes)) != CONTRACT_SPECIALTIES[s.code]
    ]
    if table:
        raise PackError("specialties.yaml", table)

    groups = {g.code for g in meta.question_groups}
    bad_groups = [
        f"at symptoms[{i}].question_group: {s.question_group!r} is not one of {', '.join(sorted(groups))}"
        for i, s in enumerate(symptoms)
        if s.question_group not in groups
    ]
    if bad_groups:
        raise PackError("symptoms.yaml", bad_groups)

    cited: tuple[tuple[str, str, list[str]], ...] = (
        ("contributors.yaml", "contributors", [c.source for c in contributors]),
        ("management.yaml", "strategies", [m.source for m in strategies]),
    )
    for file, label, codes in cited:
        unknown = [
            f"at {label}[{i}].source: unknown source {code!r}" for i, code in enumerate(codes) if code not in sources
        ]
        if unknown:
            raise PackError(file, unknown)
    unknown = [
        f"at treatments[{i}].sources: unknown source {code!r}"
        for i, t in enumerate(treatments)
        for code in t.sources
        if code not in sources
    ]
    unknown += [
        f"at treatments[{i}].not_offered_when[{j}].sources: unknown source {code!r}"
        for i, t in enumerate(treatments)
        for j, limit in enumerate(t.not_offered_when)
        for code in limit.sources
        if code not in sources
    ]
    if unknown:
        raise PackError("treatments.yaml", unknown)
    unknown = [
        f"at warning_signs[{i}].sources: unknown source {code!r}"
        for i, w in enumerate(warning_signs)
        for code in w.sources
        if code not in sources
    ]
    if unknown:
        raise PackError("warning_signs.yaml", unknown)
    if not any(not w.when.model_dump(exclude_defaults=True) for w in warning_signs):
        raise PackError(
            "warning_signs.yaml",
            [
                "at warning_signs: at least one sign must apply always (no conditions), "
                "so every result has safety-netting"
            ],
        )

    may_be_old = frozenset(s.code for s in symptoms if s.may_be_long_standing)
    for file, rules in (("red_flags.yaml", red_flag_rules), ("triage_rules.yaml", triage_rules)):
        wrong = [
            f"at rules[{i}].when: new_symptoms_any names {code.value}, which symptoms.yaml does not mark "
            f"may_be_long_standing; use symptoms_any (it counts whether old or new)"
            for i, rule in enumerate(rules)
            for code in rule.when.new_symptom_codes
            if code not in may_be_old
        ]
        if wrong:
            raise PackError(file, wrong)

    glossary: list[GlossaryTerm] = []
    if (directory / "glossary.yaml").exists():
        glossary = _read(directory, "glossary.yaml", GlossaryFile).terms
        words = [w.lower() for t in glossary for w in (t.term, *t.variants)]
        if twice := sorted({w for w in words if words.count(w) > 1}):
            raise PackError("glossary.yaml", [f"at terms: {', '.join(twice)} listed twice"])

    procedure_evidence: list[TreatmentEvidence] = []
    medicare_datasets: dict[str, MedicareDataset] = {}
    if (directory / "procedure_codes.yaml").exists():
        procedure_file = _read(directory, "procedure_codes.yaml", ProcedureEvidenceFile)
        procedure_evidence = procedure_file.evidence
        medicare_datasets = {d.code: d for d in procedure_file.datasets}
        _check_procedure_codes(procedure_file, sources)

    seen_ids: set[str] = set()
    _check_references("red_flags.yaml", "rules", red_flag_rules, sources, red_flags=True, seen_ids=seen_ids)
    _check_references("triage_rules.yaml", "rules", triage_rules, sources, red_flags=False, seen_ids=seen_ids)
    _check_references("pack.yaml", "default_rule", [meta.default_rule], sources, red_flags=False, seen_ids=seen_ids)
    if meta.default_rule.urgency is not Urgency.routine or meta.default_rule.when.model_dump(exclude_defaults=True):
        raise PackError("pack.yaml", ["at default_rule: the default rule must be routine and have no conditions"])

    return Pack(
        directory=directory,
        meta=meta,
        sources=sources,
        question_groups=meta.question_groups,
        symptoms=symptoms,
        contributors=contributors,
        treatments=treatments,
        specialties=specialties,
        strategies=strategies,
        red_flag_rules=red_flag_rules,
        triage_rules=triage_rules,
        risk_factors=risk_factors,
        warning_signs=warning_signs,
        symptom_by_code={s.code: s for s in symptoms},
        contributor_by_code={c.code: c for c in contributors},
        treatment_by_code={t.code: t for t in treatments},
        specialty_by_code={s.code: s for s in specialties},
        urgency_levels={u.code: u for u in meta.urgency_levels},
        glossary=glossary,
        procedure_evidence=procedure_evidence,
        medicare_datasets=medicare_datasets,
    )


def _check_procedure_codes(procedure_file: ProcedureEvidenceFile, sources: dict[str, Source]) -> None:
    """Both datasets described once, each treatment once, each code once across the file, every source known."""
    evidence = procedure_file.evidence
    problems: list[str] = []
    if {d.code for d in procedure_file.datasets} != {"utilization", "clinicians"}:
        problems.append("at datasets: describe utilization and clinicians once each")
    problems += [f"at datasets[{i}].sources[{k}]: unknown source {s!r}"
                 for i, d in enumerate(procedure_file.datasets) for k, s in enumerate(d.sources) if s not in sources]
    treatments: set[Treatment] = set()
    codes: dict[str, str] = {}
    for i, entry in enumerate(evidence):
        if entry.treatment in treatments:
            problems.append(f"at evidence[{i}].treatment: {entry.treatment.value} is listed twice")
        treatments.add(entry.treatment)
        for j, code in enumerate(entry.codes):
            where = f"evidence[{i}].codes[{j}]"
            if code.code in codes:
                problems.append(f"at {where}.code: {code.code} is already listed at {codes[code.code]}")
            else:
                codes[code.code] = where
            problems += [f"at {where}.sources[{k}]: unknown source {s!r}"
                         for k, s in enumerate(code.sources) if s not in sources]
    if problems:
        raise PackError("procedure_codes.yaml", problems)


@lru_cache(maxsize=4)
def get_pack(directory: Path | None = None) -> Pack:
    """The pack, loaded and validated once per process (the built-in one unless a folder is given)."""
    return load_pack(Path(directory) if directory is not None else DEFAULT_PACK_DIR)
