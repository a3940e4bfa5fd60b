"""The articles' safety wording: where each warning sign sends a person, and honest review status."""

from __future__ import annotations

import re

from fusioncare.knowledge.articles import ABOUT_FILE, ARTICLES_DIR, GET_HELP_NOW_FILE, load_library

HELP = (ARTICLES_DIR / GET_HELP_NOW_FILE).read_text(encoding="utf-8")


def section(heading: str) -> str:
    """The text of the help block from a bold heading to the next one."""
    start = HELP.index(heading)
    rest = HELP[start + len(heading):]
    end = rest.find("\n**")
    return rest if end == -1 else rest[:end]


EMERGENCY = section("**Call 911 or go to the emergency department now**")
TODAY = section("**Get help today.**")
WITHIN_A_DAY = section("**Get help within 24 hours**")


def test_both_legs_and_not_passing_urine_are_emergencies():
    assert "**both** legs" in EMERGENCY and "both" not in TODAY
    assert "can't pass urine" in EMERGENCY


def test_the_signs_of_a_bleed_a_fever_with_nerve_signs_and_the_neck_airway_are_emergencies():
    assert "first days after surgery" in EMERGENCY and "bleed" in EMERGENCY
    assert "fever with new weakness or numbness" in EMERGENCY
    assert "neck operation" in EMERGENCY and "swallowing or breathing" in EMERGENCY and "voice" in EMERGENCY


def test_same_day_signs_have_time_frames_and_a_leak_of_spinal_fluid_is_named():
    assert "lie flat" in TODAY and "clear, watery fluid" in TODAY
    assert "first weeks or months" in TODAY and "infection" in TODAY
    assert "first weeks" in TODAY and "clot" in TODAY
    assert "clumsy hands" in TODAY and "balance" in TODAY


def test_cancer_with_worse_back_pain_is_within_24_hours():
    assert "cancer" in WITHIN_A_DAY and "new or getting worse" in WITHIN_A_DAY


def test_nerve_warning_signs_are_never_sent_to_urgent_care():
    for line in HELP.splitlines():
        if "urgent care" in line.lower():
            assert "can't scan the spine" in line, line
    for path in ARTICLES_DIR.glob("*.md"):
        text = path.read_text(encoding="utf-8").lower()
        assert not re.search(r"go to (an )?urgent care", text), path.name


def test_new_numbness_is_told_apart_from_old_numbness_that_is_easing():
    text = (ARTICLES_DIR / "how-long-nerve-pain-lasts.md").read_text(encoding="utf-8")
    assert "Old numbness that is slowly easing" in text and "New numbness or weakness is different" in text


def test_no_article_carries_a_review_pending_notice_or_the_unsourced_operation_claim():
    for path in ARTICLES_DIR.glob("*.md"):
        text = path.read_text(encoding="utf-8").lower()
        assert "pending" not in text and "reviewed_by" not in text, path.name
        assert "without another operation" not in text and "that do not need another operation" not in text, path.name


def test_every_article_lists_specific_sources_and_the_about_page_states_the_review_status():
    library = load_library()
    assert all(a.sources for a in library.articles)
    about = (ARTICLES_DIR / ABOUT_FILE).read_text(encoding="utf-8")
    assert "No outside doctor has signed off this content yet" in about
    assert library.about_html and "Who has reviewed it" in library.about_html
