"""The Jinja2 environment every page renders through (one place for globals and filters)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from fusioncare import display
from fusioncare.directory.names import display_case
from fusioncare.web import navigation
from fusioncare.web.maps import directions_url

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

# One way of writing times, zones and names on every page (fusioncare/display.py).
templates.env.filters.update({
    "clock": display.clock, "clock_range": display.clock_range, "day_short": display.day_short,
    "day_long": display.day_long, "when_short": display.when_short, "when_long": display.when_long,
    "zone_words": display.zone_words, "phone": display.format_phone, "display_case": display_case,
    "directions": directions_url, "fromiso": datetime.fromisoformat,
})
templates.env.globals["nav_user"] = navigation.nav_user
