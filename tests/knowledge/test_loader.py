"""The knowledge pack loader: validation on load, contract coverage, sources, and start-up stopping on errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fusioncare.cli import app as cli_app
from fusioncare.knowledge.loader import DEFAULT_PACK_DIR, PackError, get_pack, load_pack
from fusioncare.main import create_app
from fusioncare.settings import Settings, get_settings
from fusioncare.triage.schemas import (
    CONTRACT_SPECIALTIES,
    Contributor,
    FusionApproach,
    FusionRegion,
    Specialty,
    Symptom,
    Treatment,
    Urgency,
)


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the built-in pack to break in one place."""
    target = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK_DIR, target)
    return target


def edit(folder: Path, name: str, change) -> None:
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_built_in_pack_describes_every_contract_code_exactly_once():
    pack = load_pack()
    assert [s.code for s in pack.symptoms] == list(dict.fromkeys(s.code for s in pack.symptoms))
    assert {s.code for s in pack.symptoms} == set(Symptom)
    assert {c.code for c in pack.contributors} == set(Contributor)
    assert {t.code for t in pack.treatments} == set(Treatment)
    assert {s.code for s in pack.specialties} == set(Specialty)
    assert set(pack.urgency_levels) == set(Urgency)


def test_specialty_map_is_exactly_the_contract_table():
    pack = load_pack()
    for specialty in pack.specialties:
        assert (specialty.name, tuple(specialty.taxonomy_codes)) == CONTRACT_SPECIALTIES[specialty.code]


def test_every_symptom_belongs_to_a_questionnaire_step_and_every_step_has_symptoms():
    pack = load_pack()
    groups = [g.code for g in pack.question_groups]
    assert {s.question_group for s in pack.symptoms} == set(groups)
    assert ["bladder_bowel_groin", "neck", "legs", "wound_fever", "clots", "belly", "pain_pattern", "general_health",
            "mood"] == groups
    assert [s.code for s in pack.symptoms_in_group("clots")] == [
        Symptom.calf_pain_swelling, Symptom.chest_pain_breathless, Symptom.whole_leg_swelling, Symptom.cold_pale_foot]
    # Contract 1.1: neck questions only after a neck fusion, belly questions only after a front or side approach
    # (or when the approach is not known: the safe side).
    by_code = {g.code: g for g in pack.question_groups}
    assert by_code["neck"].applies(FusionRegion.cervical, None) and not by_code["neck"].applies(
        FusionRegion.lumbar, None
    )
    assert not by_code["belly"].applies(None, FusionApproach.posterior)
    assert all(
        by_code["belly"].applies(None, a)
        for a in (FusionApproach.anterior, FusionApproach.lateral, FusionApproach.unknown, None)
    )
    assert all(
        by_code[g].applies(FusionRegion.lumbar, FusionApproach.posterior) for g in groups if g not in ("neck", "belly")
    )


def test_pack_is_loaded_once_and_cached():
    assert get_pack() is get_pack()


def test_every_rule_treatment_contributor_and_strategy_cites_a_known_source():
    pack = load_pack()
    for rule in pack.rules:
        assert rule.sources and all(code in pack.sources for code in rule.sources), rule.id
    for item in [*pack.contributors, *pack.management_strategies]:
        assert item.source in pack.sources
    for treatment in pack.treatments:
        assert all(code in pack.sources for code in treatment.sources)


def test_evidence_notes_say_plainly_that_nice_advises_against_gabapentinoids_and_tens():
    pack = load_pack()
    medication = pack.treatment_by_code[Treatment.medication].evidence
    tens = pack.treatment_by_code[Treatment.tens].evidence
    assert "NICE NG59" in medication and "advises against gabapentin and pregabalin" in medication
    assert "NICE NG59 advises against TENS" in tens


def test_contributor_explanations_are_never_worded_as_a_diagnosis():
    for contributor in load_pack().contributors:
        words = contributor.explanation.lower()
        assert " may " in f" {words} " or " can " in f" {words} ", contributor.code
        assert "you have" not in words, contributor.code


def test_management_strategies_cover_the_long_term_plan():
    codes = {s.code for s in load_pack().management_strategies}
    assert {
        "follow_surgeons_protocol",
        "physical_therapy",
        "spine_habits",
        "low_impact_exercise",
        "weight_management",
        "cbt_for_coping",
        "support_groups",
        "keep_care_team_informed",
    } <= codes


def test_schema_error_names_the_file_and_the_path_inside_it(pack_copy):
    edit(pack_copy, "triage_rules.yaml", lambda d: d["rules"][2].update(urgency="later"))
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    assert caught.value.file == "triage_rules.yaml"
    assert "at rules[2].urgency" in str(caught.value)


def test_invalid_yaml_names_the_file(pack_copy):
    (pack_copy / "symptoms.yaml").write_text("symptoms: [unclosed", encoding="utf-8")
    with pytest.raises(PackError, match=r"symptoms\.yaml: not valid YAML"):
        load_pack(pack_copy)


def test_a_contract_symptom_missing_from_the_pack_is_rejected(pack_copy):
    edit(pack_copy, "symptoms.yaml", lambda d: d["symptoms"].pop())
    with pytest.raises(PackError, match="not described: abdominal_swelling"):
        load_pack(pack_copy)


def test_an_unknown_symptom_code_in_a_rule_is_rejected_with_its_path(pack_copy):
    edit(pack_copy, "red_flags.yaml", lambda d: d["rules"][0]["when"].update(symptoms_any=["tingly_toes"]))
    with pytest.raises(PackError, match=r"red_flags\.yaml: at rules\[0\]\.when\.symptoms_any\[0\]"):
        load_pack(pack_copy)


def test_a_rule_without_a_source_is_rejected(pack_copy):
    edit(pack_copy, "triage_rules.yaml", lambda d: d["rules"][0].update(sources=[]))
    with pytest.raises(PackError, match=r"at rules\[0\]\.sources"):
        load_pack(pack_copy)


def test_a_rule_citing_an_unknown_source_is_rejected(pack_copy):
    edit(pack_copy, "triage_rules.yaml", lambda d: d["rules"][1].update(sources=["my_blog"]))
    with pytest.raises(PackError, match="unknown source 'my_blog'"):
        load_pack(pack_copy)


def test_only_red_flag_rules_may_set_urgent_or_emergency(pack_copy):
    edit(pack_copy, "triage_rules.yaml", lambda d: d["rules"][0].update(urgency="urgent"))
    with pytest.raises(PackError, match="only red-flag rules may set urgency urgent or emergency"):
        load_pack(pack_copy)


def test_a_red_flag_rule_must_set_at_least_urgent(pack_copy):
    edit(pack_copy, "red_flags.yaml", lambda d: d["rules"][0].update(urgency="soon"))
    with pytest.raises(PackError, match="must set urgency urgent or emergency"):
        load_pack(pack_copy)


def test_conditions_that_could_lower_urgency_are_refused_outside_routine_rules(pack_copy):
    edit(pack_copy, "triage_rules.yaml", lambda d: d["rules"][0]["when"].update(trend_at_most="stable"))
    with pytest.raises(PackError, match="only allowed in routine rules"):
        load_pack(pack_copy)


def test_an_emergency_rule_must_send_people_to_the_emergency_department_first(pack_copy):
    edit(
        pack_copy,
        "red_flags.yaml",
        lambda d: d["rules"][0].update(specialties=["spine_surgeon", "emergency_department"]),
    )
    with pytest.raises(PackError, match="must list emergency_department first"):
        load_pack(pack_copy)


def test_a_specialty_map_that_differs_from_the_contract_is_rejected(pack_copy):
    edit(pack_copy, "specialties.yaml", lambda d: d["specialties"][1].update(taxonomy_codes=["207XS0117X"]))
    with pytest.raises(PackError, match=r"specialties\.yaml: at specialties\[1\]") as refused:
        load_pack(pack_copy)
    second = yaml.safe_load((pack_copy / "specialties.yaml").read_text(encoding="utf-8"))["specialties"][1]["code"]
    assert refused.value.problems == [f"at specialties[1]: name and taxonomy codes must be exactly "
                                      f"{CONTRACT_SPECIALTIES[Specialty(second)]} (the contract table)"]


def test_duplicate_rule_ids_are_rejected(pack_copy):
    edit(pack_copy, "triage_rules.yaml", lambda d: d["rules"][1].update(id=d["rules"][0]["id"]))
    with pytest.raises(PackError, match="is used twice"):
        load_pack(pack_copy)


def test_a_duplicate_rule_id_is_named_with_its_place_even_across_the_two_rule_files(pack_copy):
    first_red_flag = yaml.safe_load((pack_copy / "red_flags.yaml").read_text(encoding="utf-8"))["rules"][0]["id"]
    edit(pack_copy, "triage_rules.yaml", lambda d: d["rules"][2].update(id=first_red_flag))
    with pytest.raises(PackError) as refused:
        load_pack(pack_copy)
    assert refused.value.file == "triage_rules.yaml"
    assert refused.value.problems == [f"at rules[2].id: rule id {first_red_flag} is used twice"]


def _refusal(folder: Path) -> PackError:
    with pytest.raises(PackError) as refused:
        load_pack(folder)
    return refused.value


def _move_rule(folder: Path, source: str, index: int, target: str) -> int:
    """Move one rule from one rule file to the end of the other, as a slip of copy and paste would; its new index."""
    moved: list = []
    edit(folder, source, lambda d: moved.append(d["rules"].pop(index)))
    edit(folder, target, lambda d: d["rules"].append(moved[0]))
    return len(yaml.safe_load((folder / target).read_text(encoding="utf-8"))["rules"]) - 1


@pytest.mark.parametrize(("source", "target", "problem"), [
    # The two files are reviewed apart ("the red flags" and "the rest"): a red-flag rule must be where a reviewer
    # of the red flags looks for it, and nothing else may be there.
    ("red_flags.yaml", "triage_rules.yaml", "triage_rules.yaml holds no red-flag rules"),
    ("triage_rules.yaml", "red_flags.yaml", "red_flags.yaml holds only red-flag rules"),
])
def test_a_rule_pasted_into_the_other_rule_file_is_refused(pack_copy, source, target, problem):
    at = _move_rule(pack_copy, source, 0, target)
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == (target, [f"at rules[{at}].red_flag: {problem}"])


def test_an_unknown_source_is_named_with_its_place_and_the_known_ones(pack_copy):
    edit(pack_copy, "triage_rules.yaml",
         lambda d: d["rules"][1].update(sources=[d["rules"][1]["sources"][0], "my_blog"]))
    known = [s["id"] for s in yaml.safe_load((pack_copy / "sources.yaml").read_text(encoding="utf-8"))["sources"]]
    with pytest.raises(PackError) as refused:
        load_pack(pack_copy)
    assert refused.value.problems == [f"at rules[1].sources[1]: unknown source 'my_blog'; known: {', '.join(known)}"]


def test_a_broken_pack_stops_app_start_up(pack_copy, tmp_path):
    edit(pack_copy, "pack.yaml", lambda d: d.pop("disclaimer"))
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", knowledge_pack_dir=pack_copy)
    with pytest.raises(PackError, match=r"pack\.yaml: at disclaimer: Field required"):
        create_app(settings)


def test_cli_reports_a_broken_pack_by_file_and_exits_1(pack_copy, monkeypatch):
    edit(pack_copy, "treatments.yaml", lambda d: d["treatments"][0].update(specialties=["surgeon"]))
    monkeypatch.setenv("FUSIONCARE_KNOWLEDGE_PACK_DIR", str(pack_copy))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli_app,
            ["assess", "--json", "-"],
            input='{"months_since_surgery": 3, "leg_pain": 2, "back_pain": 2, "trend": "stable"}',
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "treatments.yaml: at treatments[0].specialties[0]" in result.stderr


# --- contract 1.1: the loader keeps refusing any rule that could break monotonicity --------------------------


def test_new_symptoms_any_is_refused_for_a_symptom_that_must_count_whether_old_or_new(pack_copy):
    edit(pack_copy, "red_flags.yaml", lambda d: d["rules"][0]["when"].update(new_symptoms_any=["fever"]))
    with pytest.raises(PackError, match=r"red_flags\.yaml: at rules\[0\]\.when: new_symptoms_any names fever"):
        load_pack(pack_copy)


def test_new_symptoms_any_is_checked_in_the_timeline_rules_too(pack_copy):
    # Only a symptom that may be long-standing may be counted "only if new": a fever counts whenever it is there.
    edit(pack_copy, "triage_rules.yaml",
         lambda d: next(r for r in d["rules"] if r["when"].get("new_symptoms_any"))["when"].update(
             new_symptoms_any=["fever"]))
    at = next(i for i, r in enumerate(yaml.safe_load((pack_copy / "triage_rules.yaml").read_text())["rules"])
              if r["when"].get("new_symptoms_any") == ["fever"])
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == ("triage_rules.yaml", [
        f"at rules[{at}].when: new_symptoms_any names fever, which symptoms.yaml does not mark "
        f"may_be_long_standing; use symptoms_any (it counts whether old or new)"])


def test_a_lowering_condition_in_a_red_flag_rule_is_refused_even_inside_any_of(pack_copy):
    edit(
        pack_copy,
        "red_flags.yaml",
        lambda d: d["rules"][0]["when"].update(any_of=[{"symptoms_any": ["fever"], "leg_pain_at_most": 3}]),
    )
    with pytest.raises(PackError, match="only allowed in routine rules"):
        load_pack(pack_copy)


def test_an_urgent_rule_on_time_or_risk_alone_is_refused(pack_copy):
    edit(
        pack_copy,
        "red_flags.yaml",
        lambda d: d["rules"][0].update(when={"months_below": 1, "risk_factors_any": ["smoking"]}),
    )
    with pytest.raises(PackError, match="must name the warning symptoms or the pain level"):
        load_pack(pack_copy)


def test_an_urgent_rule_that_lists_treatments_is_refused(pack_copy):
    edit(pack_copy, "red_flags.yaml", lambda d: d["rules"][0].update(treatments=["injection"]))
    with pytest.raises(PackError, match="lists no treatments"):
        load_pack(pack_copy)


def test_warning_signs_must_include_one_for_everyone(pack_copy):
    edit(
        pack_copy,
        "warning_signs.yaml",
        lambda d: [w.update(when={"months_below": 600}) for w in d["warning_signs"] if "when" not in w],
    )
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == ("warning_signs.yaml", [
        "at warning_signs: at least one sign must apply always (no conditions), so every result has safety-netting"])


def test_an_unknown_risk_factor_in_a_rule_is_refused_with_its_path(pack_copy):
    edit(pack_copy, "red_flags.yaml", lambda d: d["rules"][0]["when"].update(risk_factors_any=["obesity"]))
    with pytest.raises(PackError, match=r"at rules\[0\]\.when\.risk_factors_any\[0\]"):
        load_pack(pack_copy)


# Every consistency check of load_pack, each broken once in a copy of the pack; the expected problems are written
# from what a pack author must be told: the file, the place in it, and what is wrong.

def test_a_symptom_in_a_question_step_that_does_not_exist_is_refused(pack_copy):
    edit(pack_copy, "symptoms.yaml", lambda d: d["symptoms"][2].update(question_group="feet"))
    groups = sorted(g["code"] for g in yaml.safe_load((pack_copy / "pack.yaml").read_text())["question_groups"])
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == (
        "symptoms.yaml", [f"at symptoms[2].question_group: 'feet' is not one of {', '.join(groups)}"])


def test_a_symptom_described_twice_is_refused_with_both_places_counted(pack_copy):
    symptoms = yaml.safe_load((pack_copy / "symptoms.yaml").read_text())["symptoms"]
    edit(pack_copy, "symptoms.yaml", lambda d: d["symptoms"].append(dict(d["symptoms"][0])))
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == (
        "symptoms.yaml", [f"at symptoms[{len(symptoms)}].code: {symptoms[0]['code']} is listed twice"])


@pytest.mark.parametrize(("file", "change", "problem"), [
    ("contributors.yaml", lambda d: d["contributors"][1].update(source="my_blog"),
     "at contributors[1].source: unknown source 'my_blog'"),
    ("management.yaml", lambda d: d["strategies"][0].update(source="my_blog"),
     "at strategies[0].source: unknown source 'my_blog'"),
    ("treatments.yaml", lambda d: d["treatments"][0]["sources"].append("my_blog"),
     "at treatments[0].sources: unknown source 'my_blog'"),
    ("treatments.yaml", lambda d: d["treatments"][2]["not_offered_when"][1]["sources"].append("my_blog"),
     "at treatments[2].not_offered_when[1].sources: unknown source 'my_blog'"),
    ("warning_signs.yaml", lambda d: d["warning_signs"][1]["sources"].append("my_blog"),
     "at warning_signs[1].sources: unknown source 'my_blog'"),
])
def test_every_citation_outside_the_rules_must_name_a_known_source(pack_copy, file, change, problem):
    edit(pack_copy, file, change)
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == (file, [problem])


def test_a_glossary_word_listed_twice_is_refused(pack_copy):
    edit(pack_copy, "glossary.yaml", lambda d: d["terms"][3]["variants"].append("Sciatic"))
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == ("glossary.yaml", ["at terms: sciatic listed twice"])


def test_without_a_glossary_the_pack_still_loads_with_none(pack_copy):
    (pack_copy / "glossary.yaml").unlink()
    assert load_pack(pack_copy).glossary == []
    assert len(load_pack().glossary) >= 5


@pytest.mark.parametrize("change", [
    lambda d: d["default_rule"].update(urgency="soon"),
    lambda d: d["default_rule"].update(when={"months_below": 6}),
])
def test_the_default_rule_must_be_routine_and_unconditional(pack_copy, change):
    edit(pack_copy, "pack.yaml", change)
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == (
        "pack.yaml", ["at default_rule: the default rule must be routine and have no conditions"])


def test_a_missing_pack_file_is_named(pack_copy):
    (pack_copy / "risk_factors.yaml").unlink()
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == ("risk_factors.yaml", ["the file is missing"])
    assert str(refused) == "knowledge pack file risk_factors.yaml: the file is missing"


def test_a_file_with_nothing_in_it_is_refused_at_the_top_level(pack_copy):
    (pack_copy / "sources.yaml").write_text("# emptied by mistake\n", encoding="utf-8")
    refused = _refusal(pack_copy)
    assert refused.file == "sources.yaml"
    assert refused.problems and all(p.startswith("at (top level): ") for p in refused.problems), refused.problems


def test_a_broken_pack_names_every_problem_of_the_file_at_once(pack_copy):
    edit(pack_copy, "triage_rules.yaml", lambda d: [d["rules"][1].update(sources=["my_blog"]),
                                                    d["rules"][4].update(id=d["rules"][0]["id"])])
    refused = _refusal(pack_copy)
    first_id = yaml.safe_load((pack_copy / "triage_rules.yaml").read_text())["rules"][0]["id"]
    assert refused.file == "triage_rules.yaml"
    assert [p.split(":")[0] for p in refused.problems] == ["at rules[1].sources[0]", "at rules[4].id"]
    assert refused.problems[1] == f"at rules[4].id: rule id {first_id} is used twice"
    assert str(refused) == "knowledge pack file triage_rules.yaml: " + "; ".join(refused.problems)


def test_several_codes_missing_from_the_pack_are_named_together(pack_copy):
    edit(pack_copy, "symptoms.yaml",
         lambda d: d.update(symptoms=[s for s in d["symptoms"] if s["code"] not in ("foot_drop", "fever")]))
    refused = _refusal(pack_copy)
    assert refused.file == "symptoms.yaml"
    # In the contract's order (foot_drop comes before fever in the symptom table).
    assert refused.problems == ["at symptoms: these contract codes are not described: foot_drop, fever"]


def test_a_result_names_its_sources_as_citations_in_the_order_given():
    pack = load_pack()
    assert pack.source_names(["nice_ng59", "nhs_sciatica"]) == (
        "NICE NG59: Low back pain and sciatica in over 16s: assessment and management (2016, updated 2020); "
        "NHS: Sciatica")
    assert pack.source_names(["nhs_sciatica"]) == "NHS: Sciatica"


@pytest.mark.parametrize(("file", "key", "section"), [
    ("symptoms.yaml", "symptoms", "symptoms"), ("contributors.yaml", "contributors", "contributors"),
    ("treatments.yaml", "treatments", "treatments"), ("specialties.yaml", "specialties", "specialties"),
    ("risk_factors.yaml", "risk_factors", "risk_factors"),
])
def test_each_described_list_must_cover_the_contract_naming_its_own_file(pack_copy, file, key, section):
    first = yaml.safe_load((pack_copy / file).read_text(encoding="utf-8"))[key][0]["code"]
    edit(pack_copy, file, lambda d: d[key].pop(0))
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == (
        file, [f"at {section}: these contract codes are not described: {first}"])


def test_the_urgency_levels_must_be_the_contract_s_four_each_once(pack_copy):
    pack = yaml.safe_load((pack_copy / "pack.yaml").read_text(encoding="utf-8"))
    levels = [u["code"] for u in pack["urgency_levels"]]
    edit(pack_copy, "pack.yaml", lambda d: d["urgency_levels"].__setitem__(0, dict(d["urgency_levels"][1])))
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == ("pack.yaml", [
        f"at urgency_levels[1].code: {levels[1]} is listed twice",
        f"at urgency_levels: these contract codes are not described: {levels[0]}"])


def test_two_glossary_words_listed_twice_are_named_together(pack_copy):
    edit(pack_copy, "glossary.yaml", lambda d: [d["terms"][3]["variants"].append("Sciatic"),
                                                d["terms"][4]["variants"].append("fusion")])
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == ("glossary.yaml", ["at terms: fusion, sciatic listed twice"])


def test_without_procedure_codes_the_pack_loads_with_no_medicare_evidence(pack_copy):
    (pack_copy / "procedure_codes.yaml").unlink()
    pack = load_pack(pack_copy)
    assert pack.procedure_evidence == [] and pack.medicare_datasets == {} and pack.procedure_codes == {}
    assert load_pack().medicare_datasets.keys() == {"utilization", "clinicians"}


def test_the_default_rule_must_cite_known_sources_too(pack_copy):
    edit(pack_copy, "pack.yaml", lambda d: d["default_rule"].update(sources=["my_blog"]))
    known = [s["id"] for s in yaml.safe_load((pack_copy / "sources.yaml").read_text(encoding="utf-8"))["sources"]]
    refused = _refusal(pack_copy)
    assert (refused.file, refused.problems) == (
        "pack.yaml", [f"at default_rule[0].sources[0]: unknown source 'my_blog'; known: {', '.join(known)}"])


def test_the_loaded_pack_indexes_every_list_by_code_and_knows_its_folder(pack_copy):
    pack = load_pack(pack_copy)
    assert pack.directory == pack_copy
    assert pack.symptom_by_code[Symptom.foot_drop].code is Symptom.foot_drop
    assert pack.contributor_by_code[Contributor.adjacent_segment_disease].code is Contributor.adjacent_segment_disease
    assert pack.specialty_by_code[Specialty.spine_surgeon].name == CONTRACT_SPECIALTIES[Specialty.spine_surgeon][0]
    assert [w.code for w in pack.warning_signs][:2] == ["cauda_equina", "nerve_signs"]
    filed = yaml.safe_load((pack_copy / "risk_factors.yaml").read_text(encoding="utf-8"))["risk_factors"]
    assert [r.code for r in pack.risk_factors] == [r["code"] for r in filed]
