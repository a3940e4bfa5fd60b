"""The visit summary as a one-page PDF (fpdf2): trends in words, the leg pain chart, scores, treatments, medications."""

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


def visit_summary_pdf(summary: VisitSummary) -> bytes:
    pdf = _SummaryPdf()
    pdf.set_title("Recovery summary")
    pdf.set_creator("FusionCare")
    pdf.add_page()
    pdf.heading("Recovery summary for my doctor", 16)
    period = (f"{summary.entry_count} diary entries, {_day(summary.first_date)} to {_day(summary.last_date)}."
              if summary.first_date and summary.last_date else "No diary entries yet.")
    pdf.para(period)
    pdf.heading("Trends")
    for trend in summary.trends.measures:
        pdf.bullet(trend.summary)
    leg = next((t for t in summary.trends.measures if t.measure == "leg_pain" and t.weekly), None)
    if leg:
        svg = _UNSUPPORTED_SVG.sub("", str(charts.render(leg, summary.trends.treatments, chart_id="pdf", paint=True)))
        pdf.ln(1)
        pdf.set_font(pdf.family, "B", 9.5)
        pdf.cell(0, 5, "Leg pain, weekly averages (shaded: no meaningful change from baseline)",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.image(io.BytesIO(svg.encode("utf-8")), w=130)
        pdf.set_font(pdf.family, "", 9.5)
    pdf.heading("Latest scores")
    for response in summary.latest_scores or []:
        pdf.bullet(f"{response.instrument.upper()} ({_day(response.completed_at.date())}): {response.interpretation}")
    if not summary.latest_scores:
        pdf.para("No questionnaires yet.")
    pdf.heading("Treatments tried and their effect")
    for effect in summary.treatment_effects:
        pdf.bullet(f"{_day(effect.started)}: {effect.summary}")
    if not summary.treatment_effects:
        pdf.para("None recorded in the diary.")
    pdf.heading("Current medications")
    pdf.para(", ".join(summary.current_medications) or "None recorded in the last week.")
    pdf.heading("Latest assessment")
    if summary.latest_assessment and summary.latest_assessment_date:
        pdf.para(f"{summary.latest_assessment.urgency.value.capitalize()} ({_day(summary.latest_assessment_date)}): "
                 f"{summary.latest_assessment.headline}")
    else:
        pdf.para("No assessment yet.")
    pdf.ln(2)
    pdf.set_font(pdf.family, "", 8)
    pdf.para("Prepared by the patient with FusionCare. Guidance, not a diagnosis.")
    return bytes(pdf.output())
