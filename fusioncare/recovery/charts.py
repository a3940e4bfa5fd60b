"""Server-rendered SVG trend charts: weekly averages, the baseline, the no-meaningful-change band, treatment markers.

Plain SVG markup with a <title> and <desc>; no scripts, no inline styles (classes are styled in app.css).
"""

from __future__ import annotations

from datetime import date, timedelta

from markupsafe import Markup, escape

from fusioncare.recovery.schemas import MeasureTrend, TreatmentMarker

WIDTH, HEIGHT = 520, 290
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 16, 60


def no_change_half_width(trend: MeasureTrend) -> float | None:
    """How far from the baseline a value can move before the change counts as meaningful."""
    if trend.baseline is None:
        return None
    widths = [trend.meaningful_change_points]
    if trend.meaningful_change_percent and trend.baseline > 0:
        widths.append(trend.baseline * trend.meaningful_change_percent / 100)
    return min(widths)


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def text_alternative(trend: MeasureTrend) -> str:
    """The chart in words: the summary and every weekly average."""
    weeks = "; ".join(f"week of {w.week_start.day} {w.week_start:%b}: {_num(w.value)}" for w in trend.weekly)
    return f"{trend.summary} Weekly averages: {weeks or 'none yet'}."


# For the PDF, which cannot read app.css: the same look as presentation attributes (never style="").
PRINT_PAINT = {
    "grid": 'stroke="#cfd6dd" stroke-width="1"',
    "axis-label": 'fill="#46505c" font-size="16"',
    "axis-title": 'fill="#46505c" font-size="14"',
    "no-change-band": 'fill="#e7f0f6"',
    "baseline": 'stroke="#46505c" stroke-width="2" stroke-dasharray="6 4"',
    "baseline-label": 'fill="#17202a" font-size="16" font-weight="bold"',
    "treatment-marker": 'stroke="#8a4500" stroke-width="2"',
    "treatment-label": 'fill="#8a4500" font-size="15" font-weight="bold"',
    "trend-line": 'fill="none" stroke="#0b5c8a" stroke-width="3"',
    "trend-point": 'fill="#0b5c8a" stroke="#ffffff" stroke-width="2"',
}


def render(trend: MeasureTrend, treatments: list[TreatmentMarker], *, chart_id: str, paint: bool = False) -> Markup:
    """One measure's chart as an accessible inline SVG element; ``paint`` adds colours for use outside a page."""
    scale_max = 100.0 if trend.unit == "percent" else 10.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first = trend.weekly[0].week_start if trend.weekly else date.today()
    last = trend.weekly[-1].week_start + timedelta(days=6) if trend.weekly else first + timedelta(days=6)
    span = max(1, (last - first).days)

    def x(day: date) -> float:
        return round(LEFT + (day - first).days / span * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + (1 - min(max(value, 0), scale_max) / scale_max) * plot_h, 1)

    def _cls(name: str) -> str:
        return f'class="{name}"' + (f" {PRINT_PAINT[name]}" if paint else "")

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [f'<svg class="trend-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{title_id}">{escape(trend.name[:1].upper() + trend.name[1:])}: weekly averages</title>',
             f'<desc id="{desc_id}">{escape(text_alternative(trend))}</desc>']
    step = scale_max / 5
    for i in range(6):
        value = i * step
        parts.append(f'<line {_cls("grid")} x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value)}" y2="{y(value)}"/>')
        parts.append(f'<text {_cls("axis-label")} x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end">'
                     f'{_num(value)}</text>')
    half = no_change_half_width(trend)
    if trend.baseline is not None and half is not None:
        top, bottom = y(trend.baseline + half), y(trend.baseline - half)
        parts.append(f'<rect {_cls("no-change-band")} x="{LEFT}" y="{top}" width="{plot_w}" '
                     f'height="{round(bottom - top, 1)}">'
                     f'<title>Within this band the change from baseline is not yet meaningful</title></rect>')
        parts.append(f'<line {_cls("baseline")} x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(trend.baseline)}" '
                     f'y2="{y(trend.baseline)}"/>')
        parts.append(f'<text {_cls("baseline-label")} x="{WIDTH - RIGHT - 4}" y="{y(trend.baseline) - 6}" '
                     f'text-anchor="end">baseline {_num(trend.baseline)}</text>')
    for marker in treatments:
        if first <= marker.date <= last and marker.event == "started":
            mx = x(marker.date)
            parts.append(f'<line {_cls("treatment-marker")} x1="{mx}" x2="{mx}" y1="{TOP}" y2="{TOP + plot_h}">'
                         f'<title>{escape(marker.treatment.replace("_", " "))} started {marker.date.isoformat()}'
                         f'</title></line>')
            parts.append(f'<text {_cls("treatment-label")} x="{mx + 3}" y="{TOP + 12}">'
                         f'{escape(marker.treatment.replace("_", " "))}</text>')
    mid = [(x(w.week_start + timedelta(days=3)), y(w.value), w) for w in trend.weekly]
    if len(mid) > 1:
        points = " ".join(f"{px},{py}" for px, py, _ in mid)
        parts.append(f'<polyline {_cls("trend-line")} points="{points}"/>')
    for px, py, w in mid:
        parts.append(f'<circle {_cls("trend-point")} cx="{px}" cy="{py}" r="5"><title>Week of '
                     f'{w.week_start.isoformat()}: {_num(w.value)} ({w.entries} records)</title></circle>')
    label_every = max(1, -(-len(trend.weekly) // 6))  # at most 6 date labels
    for i, w in enumerate(trend.weekly):
        if i % label_every == 0:
            parts.append(f'<text {_cls("axis-label")} x="{x(w.week_start + timedelta(days=3))}" '
                         f'y="{HEIGHT - BOTTOM + 18}" '
                         f'text-anchor="middle">{w.week_start.day} {w.week_start:%b}</text>')
    parts.append(f'<text {_cls("axis-title")} x="{LEFT}" y="{HEIGHT - 10}">Weekly averages · lower is better · shaded: '
                 f'no real change</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
