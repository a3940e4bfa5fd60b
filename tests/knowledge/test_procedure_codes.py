"""procedure_codes.yaml: the HCPCS/CPT codes per treatment, each with its meaning and sources, checked on load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from fusioncare.knowledge.loader import DEFAULT_PACK_DIR, PackError, load_pack
from fusioncare.triage.schemas import Treatment


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK_DIR, target)
    return target


def edit(folder: Path, change) -> None:
    path = folder / "procedure_codes.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_the_procedural_treatments_of_the_contract_have_codes_with_meanings_and_sources():
    pack = load_pack()
    by_treatment = {e.treatment: e for e in pack.procedure_evidence}
    assert set(by_treatment) == {Treatment.injection, Treatment.ablation, Treatment.spinal_cord_stimulation,
                                 Treatment.revision_surgery, Treatment.physical_therapy, Treatment.chiropractic,
                                 Treatment.psychological_therapy}
    # The spec's anchor codes (spec/cms-datasets.md section 3) sit under the treatment they evidence.
    assert pack.procedure_codes["64483"][0].treatment is Treatment.injection
    assert pack.procedure_codes["64635"][0].treatment is Treatment.ablation
    assert pack.procedure_codes["63650"][0].treatment is Treatment.spinal_cord_stimulation
    assert pack.procedure_codes["63042"][0].treatment is Treatment.revision_surgery
    assert pack.procedure_codes["97110"][0].treatment is Treatment.physical_therapy
    assert pack.procedure_codes["98941"][0].treatment is Treatment.chiropractic
    assert pack.procedure_codes["96158"][0].treatment is Treatment.psychological_therapy
    assert pack.procedure_codes["64484"][1].add_on and not pack.procedure_codes["64483"][1].add_on
    # Flagged in the spec: a facility-only code and the old rod-removal code are left out.
    assert "G0260" not in pack.procedure_codes and "22850" not in pack.procedure_codes
    for _, code in pack.procedure_codes.values():
        assert code.meaning and code.patient_words
        assert all(s in pack.sources for s in code.sources)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["evidence"][0]["codes"][0].update(code="6448"),
     "at evidence[0].codes[0].code: String should match pattern"),
    (lambda d: d["evidence"][0].update(treatment="massage"), "at evidence[0].treatment: Input should be"),
    (lambda d: d["evidence"][1]["codes"].append(dict(d["evidence"][0]["codes"][0])),
     "at evidence[1].codes[3].code: 64483 is already listed at evidence[0].codes[0]"),
    (lambda d: d["evidence"][0]["codes"][0].update(sources=["made_up"]),
     "at evidence[0].codes[0].sources[0]: unknown source 'made_up'"),
    (lambda d: d["evidence"][0].update(phrase="Did {number} injections"),
     "the phrase must use exactly {number} and {year}, found number"),
    (lambda d: d["evidence"].append(dict(d["evidence"][0])), "at evidence[7].treatment: injection is listed twice"),
    (lambda d: d["evidence"][2].update(codes=[dict(d["evidence"][2]["codes"][0], add_on=True)]),
     "at least one code must not be an add-on"),
    # A profile shows only the codes a clinician has figures for: "that fusion" after an injection line meant nothing.
    (lambda d: d["evidence"][0]["codes"][1].update(patient_words="Extra levels of those injections"),
     "at evidence[0].codes[1]: Value error, 64484: an add-on's patient_words must name the procedure it extends"),
])
def test_a_broken_procedure_code_file_stops_loading_naming_the_place(pack_copy, change, message):
    edit(pack_copy, change)
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    assert caught.value.file == "procedure_codes.yaml"
    assert message in str(caught.value)


def test_both_datasets_must_be_described_once_and_cite_known_sources(pack_copy):
    # Utilization described twice (so clinicians not at all), and one source no one has heard of.
    edit(pack_copy, lambda d: [d["datasets"].__setitem__(1, dict(d["datasets"][0])),
                               d["datasets"][0].update(sources=[*d["datasets"][0]["sources"], "made_up"])])
    with pytest.raises(PackError) as caught:
        load_pack(pack_copy)
    assert (caught.value.file, caught.value.problems) == ("procedure_codes.yaml", [
        "at datasets: describe utilization and clinicians once each",
        "at datasets[0].sources[2]: unknown source 'made_up'"])
