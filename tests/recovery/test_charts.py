"""SVG trend charts: geometry follows the data, the band is the MCID around the baseline, text alternative."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from fusioncare.recovery import charts
from fusioncare.recovery.schemas import MeasureTrend, TreatmentMarker, WeeklyAverage

SVG = "{http://www.w3.org/2000/svg}"


def _trend(values, baseline=8.0, percent=30.0):
    start = dt.date(2026, 3, 2)
    weekly = [WeeklyAverage(week_start=start + dt.timedelta(weeks=i), value=v, entries=3) for i, v in enumerate(values)]
    return MeasureTrend(measure="leg_pain", name="leg pain", unit="points", baseline=baseline, baseline_date=start,
                        latest=values[-1], latest_date=start, change=None, judgement=None, summary="Summary words.",
                        meaningful_change_points=2, meaningful_change_percent=percent, source="Ostelo 2008",
                        weekly=weekly)


def test_chart_is_valid_svg_with_title_desc_and_one_point_per_week():
    svg = str(charts.render(_trend([8, 6, 4]), [], chart_id="c1"))
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text.startswith("Leg pain")
    desc = root.find(f"{SVG}desc").text
    assert "Summary words." in desc and "week of 2 Mar: 8" in desc and "week of 16 Mar: 4" in desc
    assert len(root.findall(f"{SVG}circle")) == 3
    assert "style=" not in svg and "<script" not in svg


def test_lower_values_are_drawn_lower_on_the_chart():
    root = ET.fromstring(str(charts.render(_trend([8, 6, 4]), [], chart_id="c")))
    ys = [float(c.get("cy")) for c in root.findall(f"{SVG}circle")]
    assert ys[0] < ys[1] < ys[2]  # SVG y grows downwards


def test_no_change_band_is_the_smaller_of_2_points_and_30_percent_of_baseline():
    assert charts.no_change_half_width(_trend([5], baseline=8.0)) == 2  # 30% of 8 is 2.4
    assert charts.no_change_half_width(_trend([5], baseline=5.0)) == 1.5  # 30% of 5
    assert charts.no_change_half_width(_trend([5], baseline=0.0)) == 2
    root = ET.fromstring(str(charts.render(_trend([8, 6], baseline=5.0), [], chart_id="c")))
    band = root.find(f"{SVG}rect")
    height_per_point = float(band.get("height")) / 3.0  # 1.5 either side
    assert abs(height_per_point * 10 - (charts.HEIGHT - charts.TOP - charts.BOTTOM)) < 0.5


def test_treatment_starts_are_marked_at_their_date():
    markers = [TreatmentMarker(date=dt.date(2026, 3, 9), treatment="physical_therapy", event="started"),
               TreatmentMarker(date=dt.date(2026, 3, 10), treatment="injection", event="stopped"),
               TreatmentMarker(date=dt.date(2027, 1, 1), treatment="tens", event="started")]
    svg = str(charts.render(_trend([8, 6, 4]), markers, chart_id="c"))
    assert svg.count('class="treatment-marker"') == 1
    assert re.search(r"physical therapy started 2026-03-09", svg)
