"""Questionnaire scores in full (instrument, score, band, the sentence shown) and bad answers named by field,
written by hand from recovery_measures.yaml and the published scales; MCID judgements at their exact edges."""

from __future__ import annotations

import pytest

from fusioncare.recovery.measures import get_measures
from fusioncare.recovery.scoring import AnswersInvalid, Change, Instrument, Score, is_meaningful, judge, score


def test_peg_pgic_and_odi_scores_come_out_whole():
    assert score(Instrument.peg, [4, 5, 6]) == Score(
        Instrument.peg, 5.0, None, "Pain and how much it gets in the way: 5 out of 10 (lower is better).")
    assert score(Instrument.pgic, [2]) == Score(Instrument.pgic, 2.0, None,
                                                "Much improved: a meaningful improvement.")
    assert score(Instrument.pgic, [3]) == Score(Instrument.pgic, 3.0, None,
                                                "Minimally improved: not yet a meaningful improvement.")
    # 30 of 50 = 60 %: the top of "severe" (41-60 in Fairbank and Pynsent's bands).
    assert score(Instrument.odi, [3] * 10) == Score(
        Instrument.odi, 60.0, "severe",
        "60% disability (severe): Pain is the main problem; it affects many parts of daily life.")
    assert score(Instrument.odi, [5, 5, 5, 5, 5, 5, 5, 5, None, None]) == Score(
        Instrument.odi, 100.0, "bed_bound_or_exaggerating",
        "100% disability (bed bound or exaggerating): You may be stuck in bed, or the answers may make the problem "
        "look worse than it is. Talk this through with your doctor.")


@pytest.mark.parametrize(("instrument", "answers", "field", "message"), [
    (Instrument.peg, [1, 2], "answers", "PEG has 3 items (pain, enjoyment of life, general activity), got 2"),
    (Instrument.peg, [1, 11, 2], "answers[1]", "must be a whole number from 0 to 10, got 11"),
    (Instrument.pgic, [], "answers", "PGIC has 1 item, got 0"),
    (Instrument.pgic, [8], "answers[0]", "must be a whole number from 1 to 7, got 8"),
    (Instrument.odi, [1] * 9, "answers", "ODI has 10 sections (null for a skipped one), got 9"),
    (Instrument.odi, [1] * 7 + [None] * 3, "answers", "at least 8 of the 10 sections must be answered, got 7"),
    (Instrument.odi, [1, 2, 6, 1, 1, 1, 1, 1, 1, 1], "answers[2]", "must be a whole number from 0 to 5, got 6"),
])
def test_bad_answers_name_the_answer_and_what_is_allowed(instrument, answers, field, message):
    with pytest.raises(AnswersInvalid) as raised:
        score(instrument, answers)
    assert (raised.value.field, raised.value.field_message) == (field, message)


def _measure(code: str):
    return next(m for m in get_measures().measures if m.code == code)


@pytest.mark.parametrize(("code", "baseline", "current", "meaningful"), [
    ("leg_pain", 7, 5, True),  # exactly 2 points (Ostelo 2008)
    ("leg_pain", 7, 5.5, False),  # 1.5 points and 21 %: neither
    ("leg_pain", 3, 2.1, True),  # 0.9 of 3 = exactly 30 %
    ("leg_pain", 1, 0.7, True),  # 30 % of a baseline of 1
    ("leg_pain", 4, 2.81, False),  # 1.19 of 4 = 29.75 %: just short
    ("odi", 40, 30, True),  # exactly 10 points; the ODI has no percent rule here
    ("odi", 40, 31, False),
    ("peg", 5, 4, True),  # exactly 1 point (Krebs 2009)
    ("leg_pain", 0, 1.5, False),  # from 0 only points count
])
def test_a_change_is_meaningful_from_exactly_the_published_threshold(code, baseline, current, meaningful):
    assert is_meaningful(_measure(code), baseline=baseline, current=current) is meaningful


def test_lower_is_better_for_every_measure():
    assert judge(_measure("leg_pain"), baseline=7, current=5) is Change.improved
    assert judge(_measure("leg_pain"), baseline=5, current=7) is Change.worsened
    assert judge(_measure("leg_pain"), baseline=5, current=5) is Change.no_meaningful_change


def test_odi_bands_come_from_the_measures_pack_it_is_given():
    """score_odi(answers, measures=pack) names the band from that pack's bands, not the installed pack's."""
    from fusioncare.recovery.measures import OdiBand
    from fusioncare.recovery.scoring import score_odi

    halves = [OdiBand(up_to=50, band="lower_half", meaning="half or less"),
              OdiBand(up_to=100, band="upper_half", meaning="over half")]
    pack = get_measures().model_copy(update={"odi_bands": halves})
    answers = [2, 1, 2, 1, 2, 1, 2, 1, 2, 2]  # 16 of 50 points: 32 %

    result = score_odi(answers, measures=pack)

    assert (result.score, result.band) == (32, "lower_half")
    assert result.interpretation == "32% disability (lower half): half or less"
    assert score_odi([5] * 10, measures=pack).band == "upper_half"
