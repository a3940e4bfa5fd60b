"""The visit summary as a PDF (fpdf2) that reads like the HTML page: patient and operation, medications, the latest
assessment with its warning signs, every measure with its chart, scores, treatments and their effect."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from fpdf import FPDF

from fusioncare.recovery import charts
from fusioncare.recovery.service import VisitSummary

# DejaVu covers the characters patients type (accents, other scripts); without it, the core font and "?" for the rest.
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_UNSUPPORTED_SVG = re.compile(r"<(title|desc)\b[^>]*>.*?</\1>", re.S)


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


class _SummaryPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.unicode = (_FONT_DIR / "DejaVuSans.ttf").exists() and (_FONT_DIR / "DejaVuSans-Bold.ttf").exists()
        if self.unicode:
            self.add_font("body", "", str(_FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("body", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.family = "body" if self.unicode else "helvetica"

    def text_of(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def heading(self, text: str, size: float = 12) -> None:
        self.set_font(self.family, "B", size)
        self.ln(1.5)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 9.5)

    def para(self, text: str) -> None:
        self.multi_cell(0, 4.8, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def bullet(self, text: str) -> None:
        self.multi_cell(0, 4.8, self.text_of(f"\u2022 {text}" if self.unicode else f"- {text}"),
                        new_x="LMARGIN", new_y="NEXT")


_LABEL_WIDTH = 48  # mm: the label column; a longer label wraps inside it instead of running into its value


def _height(pdf: _SummaryPdf, width: float, text: str) -> float:
    """How tall ``text`` would be in a cell of ``width`` in the current font (nothing is drawn)."""
    height = pdf.multi_cell(width, 4.8, pdf.text_of(text), dry_run=True, output="HEIGHT")
    assert isinstance(height, float | int)
    return float(height)


def _rows(pdf: _SummaryPdf, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font(pdf.family, "B", 9.5)
        label_height = _height(pdf, _LABEL_WIDTH - 2, label)
        pdf.set_font(pdf.family, "", 9.5)
        value_height = _height(pdf, pdf.epw - _LABEL_WIDTH, value)
        if pdf.get_y() + max(label_height, value_height) > pdf.page_break_trigger:  # a row stays on one page
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_font(pdf.family, "B", 9.5)
        pdf.multi_cell(_LABEL_WIDTH - 2, 4.8, pdf.text_of(label), new_x="LMARGIN", new_y="NEXT")
        label_bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + _LABEL_WIDTH, top)
        pdf.set_font(pdf.family, "", 9.5)
        pdf.multi_cell(0, 4.8, pdf.text_of(value), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), label_bottom))


def _charts(pdf: _SummaryPdf, summary: VisitSummary) -> None:
    """Every tracked measure's chart, two side by side, as on the page."""
    drawn = [t for t in summary.trends.measures if t.weekly]
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 6) / 2
    image_height = width * charts.HEIGHT / charts.WIDTH
    for pair_start in range(0, len(drawn), 2):
        if pdf.get_y() + image_height + 7 > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y() + 1
        height = 0.0
        for column, trend in enumerate(drawn[pair_start:pair_start + 2]):
            x = pdf.l_margin + column * (width + 6)
            pdf.set_xy(x, top)
            pdf.set_font(pdf.family, "B", 9)
            name = trend.name[:1].upper() + trend.name[1:]
            pdf.cell(width, 4.5, pdf.text_of(name))
            svg = _UNSUPPORTED_SVG.sub("", str(charts.render(trend, summary.trends.treatments,
                                                             chart_id=f"pdf-{trend.measure}", paint=True)))
            pdf.image(io.BytesIO(svg.encode("utf-8")), x=x, y=top + 5, w=width)
            height = max(height, image_height + 5)
        pdf.set_xy(pdf.l_margin, top + height + 1)
    pdf.set_font(pdf.family, "", 9.5)


def visit_summary_pdf(summary: VisitSummary, *, heading: str = "Recovery summary for the doctor") -> bytes:
    """The visit summary page as a PDF, in the same order and words as the HTML page."""
    pdf = _SummaryPdf()
    pdf.set_title("Recovery summary")
    pdf.set_creator("FusionCare")
    pdf.add_page()
    pdf.heading(heading, 15)
    _rows(pdf, summary.patient)
    pdf.heading("Operation")
    _rows(pdf, summary.operation)
    pdf.heading("Current medications")
    pdf.para(", ".join(summary.current_medications) or "None recorded in the last week of the diary.")
    pdf.heading("Latest assessment")
    if summary.latest_assessment and summary.latest_assessment_date:
        quoted = "; ".join(f"\u201c{flag}\u201d" for flag in summary.latest_red_flags)
        flags = (f"Warning signs reported, as worded on the patient's form: {quoted}." if summary.latest_red_flags
                 else "No warning sign reported.")
        pdf.para(f"{summary.latest_assessment.urgency.value.capitalize()} ({_day(summary.latest_assessment_date)}). "
                 f"{flags} Advice the patient was given: \u201c{summary.latest_assessment.headline}\u201d")
        if summary.latest_warning_signs:
            pdf.para("Signs the patient was told to seek help for at once:")
            pdf.set_font(pdf.family, "", 8)
            for sign in summary.latest_warning_signs:
                pdf.multi_cell(0, 3.8, pdf.text_of(f"\u2022 {sign}" if pdf.unicode else f"- {sign}"),
                               new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(pdf.family, "", 9.5)
    else:
        pdf.para("No assessment yet.")
    pdf.heading("Measures")
    pdf.para(f"Diary: {summary.entry_count} entr{'y' if summary.entry_count == 1 else 'ies'}, "
             f"{_day(summary.first_date)} to {_day(summary.last_date)}."
             if summary.first_date and summary.last_date else "Diary: no entries yet.")
    for trend in summary.trends.measures:
        pdf.bullet(trend.summary)
    _charts(pdf, summary)
    pdf.heading("Latest questionnaire scores")
    for response in summary.latest_scores or []:
        pdf.bullet(f"{response.instrument.upper()} ({_day(response.completed_at.date())}): {response.interpretation}")
    if not summary.latest_scores:
        pdf.para("No questionnaires yet.")
    pdf.heading("Treatments tried and their effect")
    for effect in summary.treatment_effects:
        pdf.bullet(f"{_day(effect.started)}: {effect.summary}")
    if not summary.treatment_effects:
        pdf.para("None recorded in the diary.")
    pdf.ln(2)
    pdf.set_font(pdf.family, "", 8)
    prepared = f" on {_day(summary.prepared_on)}" if summary.prepared_on else ""
    pdf.para(f"Prepared by the patient with FusionCare{prepared}; name, date of birth and operation details as the "
             "patient entered them. Guidance, not a diagnosis.")
    return bytes(pdf.output())
