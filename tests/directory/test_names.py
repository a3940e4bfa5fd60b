"""How names filed in capitals are shown: the expected forms are written by hand, as a person would spell them."""

from __future__ import annotations

import pytest

from fusioncare.directory.names import display_case


@pytest.mark.parametrize(("filed", "shown"), [
    ("MARY O'BRIEN", "Mary O'Brien"),
    ("JEAN-LUC PICARD", "Jean-Luc Picard"),
    ("JOHN A SMITH", "John A Smith"),  # "A" is an initial here, never lower-cased
    ("UNIVERSITY OF MICHIGAN MEDICAL SCHOOL", "University of Michigan Medical School"),
    ("SPINE AND PAIN CENTER OF THE ROCKIES", "Spine and Pain Center of the Rockies"),
    ("THE SPINE INSTITUTE", "The Spine Institute"),  # the first word keeps its capital
    ("CENTER FOR SPINAL DISORDERS", "Center for Spinal Disorders"),
    ("PHYSICAL MEDICINE AND REHABILITATION", "Physical Medicine and Rehabilitation"),
    ("OTHER", "Other"),
])
def test_a_name_in_capitals_is_shown_as_it_is_spoken(filed: str, shown: str) -> None:
    assert display_case(filed) == shown


@pytest.mark.parametrize("filed", ["McDonald Spine Clinic", "Center for Spine Health", ""])
def test_a_name_filed_in_mixed_case_is_shown_as_filed(filed: str) -> None:
    assert display_case(filed) == filed
