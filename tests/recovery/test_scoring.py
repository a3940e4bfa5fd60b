"""Questionnaire scoring against published worked examples, and MCID judgements from the knowledge pack."""

from __future__ import annotations

import pytest

from fusioncare.recovery import scoring
from fusioncare.recovery.measures import get_measures
from fusioncare.recovery.scoring import AnswersInvalid, Change


def test_odi_all_ten_sections_follows_the_published_example_16_of_50_is_32_percent():
    # Fairbank and Pynsent 2000 scoring instructions: total 16 of a possible 50 -> 16/50 x 100 = 32%.
    answers = [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]
    result = scoring.score_odi(answers)
    assert result.score == 32.0
    assert result.band == "moderate"


def test_odi_with_one_section_skipped_divides_by_45_as_in_the_published_example():
    # Same instructions: one section missed, total 16 -> 16 / (5 x 9) x 100 = 35.5...% (printed truncated as 35.5).
    answers = [2, 2, 2, 2, 2, 2, 1, 1, 2, None]
    assert sum(a for a in answers if a is not None) == 16
    assert scoring.odi_percentage(answers) == pytest.approx(35.555, abs=1e-3)
    assert scoring.score_odi(answers).score == 35.6


@pytest.mark.parametrize(("total", "band"), [(0, "minimal"), (10, "minimal"), (11, "moderate"), (20, "moderate"),
                                              (21, "severe"), (30, "severe"), (31, "crippling"), (40, "crippling"),
                                              (41, "bed_bound_or_exaggerating"), (50, "bed_bound_or_exaggerating")])
def test_odi_bands_of_whole_percentages(total, band):
    answers = [min(5, max(0, total - 5 * i)) for i in range(10)]
    assert sum(answers) == total
    assert scoring.score_odi(answers).band == band


def test_odi_non_integer_percentage_belongs_to_the_band_whose_upper_edge_it_does_not_exceed():
    assert scoring.odi_band(20.0)[0] == "minimal"
    assert scoring.odi_band(20.1)[0] == "moderate"
    # 9 of 45 answered = 20.0% exactly; 10 of 45 = 22.2%.
    assert scoring.score_odi([1, 1, 1, 1, 1, 1, 1, 1, 1, None]).band == "minimal"
    assert scoring.score_odi([2, 1, 1, 1, 1, 1, 1, 1, 1, None]).band == "moderate"


@pytest.mark.parametrize("bad", [6, -1, 2.5, "3", True])
def test_odi_section_outside_0_to_5_is_refused_naming_the_section(bad):
    answers = [1, 1, 1, bad, 1, 1, 1, 1, 1, 1]
    with pytest.raises(AnswersInvalid) as caught:
        scoring.score_odi(answers)
    assert caught.value.field == "answers[3]"
    assert "0 to 5" in caught.value.field_message


def test_odi_with_fewer_than_8_sections_answered_is_refused():
    with pytest.raises(AnswersInvalid, match="at least 8 of the 10 sections"):
        scoring.score_odi([1, 1, 1, 1, 1, 1, 1, None, None, None])
    assert scoring.score_odi([1, 1, 1, 1, 1, 1, 1, 1, None, None]).score == 20.0


def test_odi_needs_exactly_ten_answers():
    with pytest.raises(AnswersInvalid, match="10 sections"):
        scoring.score_odi([1] * 9)


@pytest.mark.parametrize(("answers", "expected"), [([7, 5, 6], 6.0), ([6, 7, 8], 7.0), ([10, 10, 10], 10.0),
                                                    ([0, 0, 1], 0.3), ([5, 5, 6], 5.3)])
def test_peg_is_the_mean_of_its_three_items(answers, expected):
    assert scoring.score_peg(answers).score == expected


@pytest.mark.parametrize("answers", [[11, 5, 5], [5, 5], [5, 5, 5, 5], [5, None, 5]])
def test_peg_refuses_items_outside_0_to_10_or_the_wrong_count(answers):
    with pytest.raises(AnswersInvalid):
        scoring.score_peg(answers)


def test_pgic_much_improved_or_better_is_a_meaningful_improvement():
    assert scoring.score_pgic([1]).interpretation == "Very much improved: a meaningful improvement."
    assert scoring.score_pgic([2]).interpretation == "Much improved: a meaningful improvement."
    assert "not yet a meaningful" in scoring.score_pgic([3]).interpretation
    assert scoring.score_pgic([7]).interpretation.startswith("Very much worse")
    with pytest.raises(AnswersInvalid):
        scoring.score_pgic([8])


def test_mcid_thresholds_come_from_the_knowledge_pack_with_sources():
    measures = get_measures()
    leg = measures.measure("leg_pain")
    assert (leg.min_points, leg.min_percent) == (2, 30)
    assert measures.measure("odi").min_points == 10
    assert (measures.measure("peg").min_points, measures.measure("peg").min_percent) == (1, 30)
    assert "Ostelo" in measures.source(leg.source).title


@pytest.mark.parametrize(("baseline", "current", "expected"), [
    (8, 6, Change.improved),             # 2 points
    (3, 2, Change.improved),             # 1 point is 33% of 3
    (8, 7, Change.no_meaningful_change),  # 1 point, 12.5%
    (4, 6, Change.worsened),
    (0, 1, Change.no_meaningful_change),  # no percentage of a zero baseline
    (5, 5, Change.no_meaningful_change),
])
def test_leg_pain_change_is_meaningful_at_2_points_or_30_percent(baseline, current, expected):
    assert scoring.judge(get_measures().measure("leg_pain"), baseline=baseline, current=current) is expected


def test_odi_change_is_meaningful_only_at_10_points():
    odi = get_measures().measure("odi")
    assert scoring.judge(odi, baseline=40, current=31) is Change.no_meaningful_change
    assert scoring.judge(odi, baseline=40, current=30) is Change.improved
