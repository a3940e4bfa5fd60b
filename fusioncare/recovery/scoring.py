"""Questionnaire scoring (PEG-3, PGIC, Oswestry Disability Index) and MCID judgements; pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from fusioncare.errors import InvalidInput
from fusioncare.recovery.measures import Measure, RecoveryMeasures, get_measures


class Instrument(StrEnum):
    odi = "odi"
    peg = "peg"
    pgic = "pgic"


class AnswersInvalid(InvalidInput):
    """Questionnaire answers that cannot be scored; the message names the answer and what is allowed."""

    code = "answers_invalid"


@dataclass(frozen=True)
class Score:
    instrument: Instrument
    score: float
    band: str | None
    interpretation: str


ODI_SECTIONS = 10
ODI_MIN_ANSWERED = 8


def _integer(value: object, *, index: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AnswersInvalid(f"answers[{index}]", f"must be a whole number from {low} to {high}, got {value!r}")
    return value


def score_peg(answers: Sequence[object]) -> Score:
    """PEG-3 (Krebs 2009): the mean of pain, interference with enjoyment of life and with general activity (0-10)."""
    if len(answers) != 3:
        raise AnswersInvalid("answers",
                             f"PEG has 3 items (pain, enjoyment of life, general activity), got {len(answers)}")
    items = [_integer(a, index=i, low=0, high=10) for i, a in enumerate(answers)]
    score = round(sum(items) / 3, 1)
    return Score(Instrument.peg, score, None,
                 f"Pain and how much it gets in the way: {score:g} out of 10 (lower is better).")


def score_pgic(answers: Sequence[object], measures: RecoveryMeasures | None = None) -> Score:
    """Patient Global Impression of Change: one answer, 1 (very much improved) to 7 (very much worse)."""
    measures = measures or get_measures()
    if len(answers) != 1:
        raise AnswersInvalid("answers", f"PGIC has 1 item, got {len(answers)}")
    value = _integer(answers[0], index=0, low=1, high=7)
    point = measures.pgic_points[value - 1]
    meaning = ("a meaningful improvement" if point.meaningful_improvement
               else "not yet a meaningful improvement")
    return Score(Instrument.pgic, float(value), None, f"{point.label}: {meaning}.")


def odi_percentage(answers: Sequence[object]) -> float:
    """Sum / (5 x sections answered) x 100, unrounded; skipped sections are null (Fairbank and Pynsent 2000)."""
    if len(answers) != ODI_SECTIONS:
        raise AnswersInvalid("answers", f"ODI has {ODI_SECTIONS} sections (null for a skipped one), got {len(answers)}")
    scores = [_integer(a, index=i, low=0, high=5) for i, a in enumerate(answers) if a is not None]
    if len(scores) < ODI_MIN_ANSWERED:
        raise AnswersInvalid("answers", f"at least {ODI_MIN_ANSWERED} of the {ODI_SECTIONS} sections must be answered, "
                                        f"got {len(scores)}")
    return sum(scores) / (5 * len(scores)) * 100


def odi_band(percentage: float, measures: RecoveryMeasures | None = None) -> tuple[str, str]:
    """(band, meaning): the first band whose upper edge the percentage does not exceed."""
    measures = measures or get_measures()
    band = next(b for b in measures.odi_bands if percentage <= b.up_to)
    return band.band, band.meaning


def score_odi(answers: Sequence[object], measures: RecoveryMeasures | None = None) -> Score:
    percentage = odi_percentage(answers)
    band, meaning = odi_band(percentage, measures)
    score = round(percentage, 1)
    return Score(Instrument.odi, score, band, f"{score:g}% disability ({band.replace('_', ' ')}): {meaning}")


def score(instrument: Instrument, answers: Sequence[object]) -> Score:
    if instrument is Instrument.peg:
        return score_peg(answers)
    if instrument is Instrument.pgic:
        return score_pgic(answers)
    return score_odi(answers)


class Change(StrEnum):
    improved = "improved"
    worsened = "worsened"
    no_meaningful_change = "no_meaningful_change"


def is_meaningful(measure: Measure, *, baseline: float, current: float) -> bool:
    """A change of at least min_points, or of min_percent of the baseline (when the baseline is above 0)."""
    delta = abs(current - baseline)
    if delta == 0:
        return False
    if delta >= measure.min_points - 1e-9:
        return True
    return measure.min_percent is not None and baseline > 0 and delta / baseline * 100 >= measure.min_percent - 1e-9


def judge(measure: Measure, *, baseline: float, current: float) -> Change:
    """Lower is better for every tracked measure."""
    if not is_meaningful(measure, baseline=baseline, current=current):
        return Change.no_meaningful_change
    return Change.improved if current < baseline else Change.worsened
