"""Directions: a plain link to a maps site with the address. Nothing from that site loads on our pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

MAPS_SEARCH = "https://www.openstreetmap.org/search?query={query}"


def directions_url(location: Any) -> str:
    """The maps search for a location (a ProviderLocation, or an address string); '' when there is no address."""
    if isinstance(location, str):
        address = location
    else:
        region = " ".join(x for x in (getattr(location, "state", None), getattr(location, "zip", None)) if x)
        address = ", ".join(x for x in (getattr(location, "address", None), getattr(location, "city", None), region)
                            if x)
    return MAPS_SEARCH.format(query=quote_plus(address)) if address else ""
