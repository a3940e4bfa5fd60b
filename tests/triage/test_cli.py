"""`fusioncare assess --json` (single, batch, stdin, bad input) and `fusioncare validate` through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusioncare.cli import app as cli_app
from fusioncare.knowledge.loader import DEFAULT_PACK_DIR

GOOD = {"months_since_surgery": 12, "leg_pain": 2, "back_pain": 7, "trend": "stable"}
EXAMPLES = Path(__file__).parent / "assessment-examples.json"
PACK_VIGNETTES = DEFAULT_PACK_DIR / "vignettes.yaml"
CLINICAL_CASES = DEFAULT_PACK_DIR / "clinical_cases.yaml"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli_app, list(args), input=input)


def test_assess_reads_a_file_and_prints_one_result(tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(GOOD))
    result = run("assess", "--json", str(path))
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["urgency"] == "soon"
    assert body["recommended_specialties"][0]["code"] == "spine_surgeon"
    assert result.stderr == ""


def test_assess_batch_from_stdin_prints_results_in_request_order():
    batch = [{**GOOD, "symptoms": ["chest_pain_breathless"]}, {**GOOD, "back_pain": 1}, GOOD]
    result = run("assess", "--json", "-", input=json.dumps(batch))
    assert result.exit_code == 0, result.stderr
    assert [r["urgency"] for r in json.loads(result.stdout)] == ["emergency", "routine", "soon"]


def test_empty_batch_prints_an_empty_array():
    result = run("assess", "--json", "-", input="[]")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_bad_batch_element_prints_nothing_and_names_the_index_and_field():
    batch = [GOOD, GOOD, {**GOOD, "trend": "sideways"}, {**GOOD, "leg_pain": 11}]
    result = run("assess", "--json", "-", input=json.dumps(batch))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        "element 2: trend: \"sideways\" is not allowed; allowed values are: 'improving', 'stable' or 'worsening'"
        in result.stderr
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            json.dumps({k: v for k, v in GOOD.items() if k != "trend"}), "trend: this field is required", id="missing"
        ),
        pytest.param(
            json.dumps({**GOOD, "leg_pain": 12}),
            "leg_pain: Input should be less than or equal to 10; allowed: a whole number from 0 to 10",
            id="out_of_range",
        ),
        pytest.param(
            json.dumps({**GOOD, "sciatica_before_surgery": "no"}),
            "sciatica_before_surgery: Input should be a valid boolean; allowed: true or false",
            id="wrong_type",
        ),
        pytest.param(
            json.dumps({**GOOD, "symptoms": ["itchy"]}),
            "symptoms[0]: \"itchy\" is not allowed; allowed values are: 'saddle_numbness'",
            id="unknown_code",
        ),
        pytest.param(
            json.dumps({**GOOD, "weight_kg": 80}), "weight_kg: unknown field; allowed fields are:", id="unknown_field"
        ),
        pytest.param("{not json", "the input is not valid JSON", id="not_json"),
        pytest.param("", "the input is not valid JSON", id="empty"),
        pytest.param(
            '"just text"', "expected a JSON object; required fields are: months_since_surgery", id="not_an_object"
        ),
        pytest.param("[1]", "element 0: expected a JSON object", id="batch_element_not_an_object"),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_the_field(payload, expected):
    result = run("assess", "--json", "-", input=payload)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert expected in result.stderr


def test_unreadable_file_exits_2(tmp_path):
    result = run("assess", "--json", str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert "Cannot read" in result.stderr


def test_assess_runs_as_a_real_process_with_stdin():
    completed = subprocess.run(
        [sys.executable, "-m", "fusioncare.cli", "assess", "--json", "-"],
        input=json.dumps([GOOD, {**GOOD, "symptoms": ["fever"]}]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert [r["urgency"] for r in json.loads(completed.stdout)] == ["soon", "urgent"]


@pytest.mark.parametrize(
    "path",
    [EXAMPLES, PACK_VIGNETTES, CLINICAL_CASES],
    ids=["spec_examples", "pack_vignettes", "independent_clinical_cases"],
)
def test_validate_passes_on_the_spec_examples_and_the_pack_vignettes(path):
    result = run("validate", str(path))
    assert result.exit_code == 0, result.stdout
    assert "0 failed" in result.stdout
    assert "PASS" in result.stdout and "FAIL" not in result.stdout


def test_validate_json_report_counts_every_case():
    result = run("validate", str(EXAMPLES), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["total"], report["passed"], report["failed"]) == (6, 6, 0)
    assert report["cases"][1]["red_flags"] == ["saddle_numbness", "bladder_dysfunction"]


def test_validate_exits_1_and_shows_the_failure(tmp_path):
    cases = json.loads(EXAMPLES.read_text())
    cases[0]["expect"]["urgency"] = ["urgent"]
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(cases))
    table = run("validate", str(path))
    report = run("validate", str(path), "--json")
    assert table.exit_code == 1 and report.exit_code == 1
    assert "FAIL" in table.stdout and "expected urgent" in table.stdout
    assert json.loads(report.stdout)["failed"] == 1


def test_validate_rejects_a_bad_vignette_with_its_index_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- name: ok\n  request: {months_since_surgery: 1, leg_pain: 1, back_pain: 1, trend: stable}\n  expect: {}\n"
        "- name: bad\n  request: {months_since_surgery: 1, leg_pain: 1, back_pain: 1, trend: up}\n  expect: {}\n"
    )
    result = run("validate", str(path))
    assert result.exit_code == 2
    assert "element 1: request.trend" in result.stderr


def test_validate_of_a_missing_file_exits_2(tmp_path):
    result = run("validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2


def test_the_independent_clinical_set_is_large_sourced_and_never_under_triaged():
    """The guideline-written set (issue 12): 120+ cases, each with a source the pack knows, zero under-triage."""
    from fusioncare.knowledge.loader import get_pack
    from fusioncare.triage.vignettes import load_vignettes

    cases = load_vignettes(CLINICAL_CASES)
    assert len(cases) >= 120
    known = get_pack().sources
    assert all(case.source in known for case in cases), [c.name for c in cases if c.source not in known]
    windows = {"days": 0, "weeks": 0, "months": 0, "years": 0}
    for case in cases:
        months = case.request.months_since_surgery
        windows["days" if months < 0.25 else "weeks" if months < 1.5 else "months" if months < 12 else "years"] += 1
    assert min(windows.values()) >= 20, windows
    assert {c.request.fusion_region.value for c in cases} == {"lumbar", "thoracic", "cervical"}
    report = json.loads(run("validate", str(CLINICAL_CASES), "--json").stdout)
    assert report["under_triage"] == 0
    assert report["urgency_matches"] == report["total"] == len(cases)
