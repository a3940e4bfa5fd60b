"""Offline geocoding of US ZIP codes (centroid and time zone from `zipcodes`) and great-circle distances."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

EARTH_RADIUS_MILES = 3958.7613
# Rows of the search index are bucketed by latitude band of this many degrees (about 6.9 miles).
LAT_BAND_DEGREES = 0.1


@dataclass(frozen=True, slots=True)
class ZipPlace:
    zip_code: str
    city: str
    state: str
    lat: float
    lon: float
    time_zone: str | None


@cache
def zip_table() -> dict[str, ZipPlace]:
    """Every US ZIP with coordinates, built once per process: `zipcodes` scans a list on each query.

    Built by two-digit prefix: `zipcodes.list_all()` would materialise 42,000 full dicts at once (about
    140 MB), this peaks near 20 MB.
    """
    import zipcodes

    table: dict[str, ZipPlace] = {}
    for row in (r for prefix in range(100) for r in zipcodes.similar_to(f"{prefix:02d}")):
        try:
            lat, lon = float(row["lat"]), float(row["long"])
        except (TypeError, ValueError):
            continue
        table[row["zip_code"]] = ZipPlace(row["zip_code"], row["city"], row["state"], lat, lon,
                                          row.get("timezone") or None)
    return table


def lookup_zip(zip_code: str) -> ZipPlace | None:
    return zip_table().get(zip_code[:5])


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def lat_band(lat: float) -> int:
    return math.floor(lat / LAT_BAND_DEGREES)


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """Every point within ``radius`` of the centre lies inside (a conservative box; never too small)."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float
    wraps: bool  # True when the longitude range crosses the antimeridian or covers every longitude

    def lat_bands(self) -> list[int]:
        return list(range(lat_band(self.min_lat), lat_band(self.max_lat) + 1))


def bounding_box(lat: float, lon: float, radius_miles: float) -> BoundingBox:
    angular = radius_miles / EARTH_RADIUS_MILES
    # A tiny margin absorbs floating-point rounding so a point exactly on the circle is never cut off.
    margin = 1e-6
    dlat = math.degrees(angular) + margin
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(lat))
    if min_lat <= -90.0 or max_lat >= 90.0 or math.sin(angular) >= cos_lat:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0, True)
    # The widest longitude offset of a circle on the sphere, reached north or south of the centre.
    dlon = math.degrees(math.asin(math.sin(angular) / cos_lat)) + margin
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180.0 or max_lon > 180.0:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0, True)
    return BoundingBox(min_lat, max_lat, min_lon, max_lon, False)
