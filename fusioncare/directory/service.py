"""Directory services: resolve a place, search providers by specialty and distance, read one profile."""

from __future__ import annotations

import base64
import json
import math
import weakref
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, literal, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fusioncare.directory import cms_service
from fusioncare.directory.errors import InvalidSearch, ProviderNotFound
from fusioncare.directory.geo import (
    EARTH_RADIUS_MILES,
    bounding_box,
    haversine_miles,
    lookup_zip,
)
from fusioncare.directory.models import ClinicianFacts, Provider, SearchIndexEntry
from fusioncare.directory.names import compile_query, matches
from fusioncare.directory.schemas import ManagedFieldsUpdate, ProviderProfile, ProviderSearch, parse_near
from fusioncare.directory.specialties import HOSPITAL
from fusioncare.knowledge.loader import Pack


@dataclass(frozen=True, slots=True)
class Place:
    lat: float
    lon: float
    zip_code: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    provider: Provider
    distance_miles: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    hits: list[SearchHit]
    next_cursor: str | None
    place: Place
    # False when the count stopped at the cap: more than ``total`` providers match (shown as "1,000+").
    total_is_exact: bool = True


# A plain distance search counts its matches up to this many; past it the exact number helps no one choosing a
# doctor and costs a scan of every candidate in a dense city (docs/directory.md, "The spatial index ...").
COUNT_CAP = 1000
# Nearest-first pages are looked for in widening circles: this radius first, then each time FOUR times wider, up
# to the search's own radius. The first circle that holds a full page holds the nearest page, exactly.
FIRST_RING_MILES = 2.0
RING_GROWTH = 4.0


def resolve_place(*, near: str) -> Place:
    """A 5-digit ZIP (its centroid) or 'lat,lon'; raises InvalidSearch naming ``near``."""
    try:
        parsed = parse_near(near)
    except ValueError as exc:
        raise InvalidSearch("near", str(exc)) from None
    if isinstance(parsed, tuple):
        return Place(lat=parsed[0], lon=parsed[1])
    place = lookup_zip(parsed)
    if place is None:
        raise InvalidSearch("near", f"{parsed} is not a US ZIP code we know")
    return Place(lat=place.lat, lon=place.lon, zip_code=parsed, label=f"{place.city}, {place.state} {parsed}")


def _needs_provider_columns(params: ProviderSearch) -> bool:
    return bool(params.q or params.insurance or params.language or params.telehealth is not None
                or params.accepting_new is not None or params.accepts_medicare_assignment is not None
                or params.sort == "name")


def _encode_cursor(key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple:
    """The key a cursor carries, checked as strictly as the keys we make: a finite distance term or a name of at
    most 500 characters without NUL, and a 10-digit NPI; anything else is refused before it reaches a query."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raw = None
    if isinstance(raw, list) and len(raw) == 2 and _is_npi(raw[1]):
        first = raw[0]
        if sort == "distance" and isinstance(first, int | float) and not isinstance(first, bool):
            try:
                term = float(first)
            except OverflowError:
                term = math.inf
            if math.isfinite(term):
                return term, raw[1]
        if sort == "name" and isinstance(first, str) and len(first) <= 500 and "\x00" not in first:
            return first, raw[1]
    raise InvalidSearch("cursor", "is not a cursor returned by this search (start again without it)")


def _is_npi(value: object) -> bool:
    return isinstance(value, str) and len(value) == 10 and value.isascii() and value.isdigit()


def _has_sql_math(db: Session) -> bool:
    """PostgreSQL always has sin/cos/asin; SQLite only when built with its math functions (most builds are)."""
    bind = db.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    known = _SQL_MATH.get(engine)
    if known is None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT power(sin(radians(1.0)), 2) * cos(0.5)")).scalar()
            known = True
        except DBAPIError:
            known = False
        _SQL_MATH[engine] = known
    return known


_SQL_MATH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def search_providers(*, db: Session, params: ProviderSearch, count_cap: int = COUNT_CAP) -> SearchResult:
    """Exactly the active providers of ``params.specialty`` within the radius that pass the filters.

    The search index is read for the few latitude bands the circle spans, each as a longitude range; every
    candidate's haversine term h = sin²(Δφ/2) + cos φ₀ cos φ sin²(Δλ/2) is then computed and a provider is in
    when h <= sin²(r / 2R), i.e. its great-circle distance is at most the radius: the box only narrows, the
    haversine decides. Results are ordered by (h, NPI), i.e. nearest first, or by (name, NPI); the cursor is
    the last key, so pages never repeat or skip.

    A plain distance search runs entirely in SQL, and its cost follows the page, not the number of matches: the
    count stops at ``count_cap`` (``total_is_exact`` says so), and past the cap the page is taken from the
    smallest of a few widening circles that holds it (every provider nearer than that circle's edge is inside it,
    so its nearest ``limit`` are the nearest of the whole search). A search with name or profile filters filters
    candidates in Python and counts exactly.
    """
    place = resolve_place(near=params.near)
    lat0 = math.radians(place.lat)
    cos0 = math.cos(lat0)
    after = _decode_cursor(params.cursor, params.sort) if params.cursor else None
    conditions, limit_h = _circle(params.specialty.value, place, params.radius_miles)

    if not _needs_provider_columns(params) and _has_sql_math(db):
        idx = SearchIndexEntry
        h = _haversine_term(place)
        capped = select(idx.npi).where(*conditions, h <= limit_h).limit(count_cap + 1).subquery()
        counted = db.scalar(select(func.count()).select_from(capped)) or 0
        total, exact = min(counted, count_cap), counted <= count_cap
        keyed: list[tuple] = []
        # Under the cap the whole circle holds few candidates and one query is cheapest; past it, widening circles.
        for ring_miles in _rings(params.radius_miles) if not exact else [params.radius_miles]:
            ring, ring_h = _circle(params.specialty.value, place, ring_miles)
            if after is not None and ring_h < after[0] and ring_miles < params.radius_miles:
                continue  # the page starts beyond this circle
            page_stmt = select(idx.npi, h.label("h")).where(*ring, h <= ring_h)
            if after is not None:
                page_stmt = page_stmt.where(or_(h > after[0], and_(h == after[0], idx.npi > after[1])))
            keyed = [((row.h, row.npi),)
                     for row in db.execute(page_stmt.order_by(h, idx.npi).limit(params.limit + 1))]
            if len(keyed) > params.limit:
                break
    else:
        total, keyed = _filter_in_python(db, params, conditions, lat0, cos0, place.lon, limit_h)
        exact = True
        if after is not None:
            keyed = [k for k in keyed if k[0] > after]
    page = keyed[: params.limit]
    more = len(keyed) > params.limit
    providers = {p.npi: p for p in db.scalars(select(Provider).where(Provider.npi.in_([k[0][1] for k in page])))}
    hits = []
    for (key,) in page:
        npi = key[1]
        distance = distance_to(provider=providers[npi], place=place)
        assert distance is not None  # the search index holds only providers with a location
        hits.append(SearchHit(providers[npi], distance))
    return SearchResult(total=total, hits=hits, next_cursor=_encode_cursor(page[-1][0]) if more else None,
                        place=place, total_is_exact=exact)


def _haversine_term(place: Place) -> ColumnElement[float]:
    """h = sin²(Δφ/2) + cos φ₀ cos φ sin²(Δλ/2) of each index row against ``place``, in SQL."""
    idx = SearchIndexEntry
    cos0 = math.cos(math.radians(place.lat))
    return (func.power(func.sin((func.radians(idx.lat) - math.radians(place.lat)) / 2), 2)
            + cos0 * func.cos(func.radians(idx.lat)) * func.power(func.sin(func.radians(idx.lon - place.lon) / 2), 2))


def _circle(specialty: str, place: Place, radius_miles: float) -> tuple[list, float]:
    """The index conditions of the box around a circle, and the haversine term h at its edge."""
    box = bounding_box(place.lat, place.lon, radius_miles)
    idx = SearchIndexEntry
    conditions = [idx.specialty == specialty, idx.lat_band.in_(box.lat_bands()),
                  idx.lat.between(box.min_lat, box.max_lat)]
    if not box.wraps:
        conditions.append(idx.lon.between(box.min_lon, box.max_lon))
    return conditions, math.sin(min(radius_miles / EARTH_RADIUS_MILES, math.pi) / 2) ** 2


def _rings(radius_miles: float) -> list[float]:
    """Widening circles ending with the search's own radius: 2, 8, 32, ... miles below it, then the radius."""
    rings, ring = [], FIRST_RING_MILES
    while ring < radius_miles:
        rings.append(ring)
        ring *= RING_GROWTH
    return [*rings, radius_miles]


def _filter_in_python(db: Session, params: ProviderSearch, conditions: list, lat0: float, cos0: float, lon0: float,
                      limit_h: float) -> tuple[int, list[tuple]]:
    """Candidates with the provider-managed fields and name, filtered and sorted here; (total, [(key,)])."""
    idx = SearchIndexEntry
    medicare = params.telehealth is not None or params.accepts_medicare_assignment is not None
    # Medicare's facts stand in for what a provider has not said themselves (video visits), and are the only source
    # of Medicare assignment; joined only when a filter needs them.
    facts = ((ClinicianFacts.telehealth, ClinicianFacts.accepts_assignment) if medicare
             else (literal(None), literal(None)))
    stmt = (select(idx.npi, idx.lat, idx.lon, Provider.name_search, Provider.insurance_plans, Provider.languages,
                   Provider.telehealth, Provider.accepting_new, *facts)
            .join(Provider, Provider.npi == idx.npi).where(*conditions))
    if medicare:
        stmt = stmt.outerjoin(ClinicianFacts, ClinicianFacts.npi == idx.npi)
    query = compile_query(params.q) if params.q else []
    insurance = params.insurance.value if params.insurance else None
    language = params.language.value if params.language else None
    sin, cos, radians = math.sin, math.cos, math.radians
    keyed: list[tuple] = []
    for (npi, lat, lon, name_search, plans, languages, telehealth, accepting_new, medicare_telehealth,
         assignment) in db.execute(stmt):
        lat1 = radians(lat)
        h = sin((lat1 - lat0) / 2) ** 2 + cos0 * cos(lat1) * sin(radians(lon - lon0) / 2) ** 2
        if h > limit_h:
            continue
        if query and not matches(query, name_search):
            continue
        if insurance and insurance not in plans:
            continue
        if language and language not in languages:
            continue
        if params.telehealth is not None:
            said = telehealth if telehealth is not None else medicare_telehealth
            if (bool(said) if said is not None else None) is not params.telehealth:
                continue
        if params.accepts_medicare_assignment is not None and (
                (assignment == "always") is not params.accepts_medicare_assignment):
            continue
        if params.accepting_new is not None and accepting_new is not params.accepting_new:
            continue
        keyed.append(((name_search, npi) if params.sort == "name" else (h, npi),))
    keyed.sort()
    return len(keyed), keyed


def nearest_emergency_hospitals(*, db: Session, near: str, radius_miles: float = 50, limit: int = 5) -> SearchResult:
    """General acute care hospitals (NPPES 282N00000X) nearest first, for emergency guidance."""
    return search_providers(db=db, params=ProviderSearch(specialty=HOSPITAL, near=near, radius_miles=radius_miles,
                                                         limit=limit))


def get_provider(*, db: Session, npi: str) -> Provider:
    """An active provider; unknown and deactivated NPIs are both "not found"."""
    provider = db.get(Provider, npi) if len(npi) == 10 and npi.isdigit() else None
    if provider is None or not provider.is_active:
        raise ProviderNotFound(f"No active provider with NPI {npi} in the directory.")
    return provider


def get_profile(*, db: Session, npi: str, pack: Pack, place: Place | None = None) -> ProviderProfile:
    """One active provider's profile with what CMS's public files say about them (procedure volumes, Medicare
    facts); ``place`` adds the distance from there."""
    provider = get_provider(db=db, npi=npi)
    distance = distance_to(provider=provider, place=place) if place is not None else None
    dataset = pack.medicare_datasets.get("utilization")
    return ProviderProfile.from_provider(
        provider, distance, procedure_volumes=cms_service.procedure_volumes(db=db, npi=npi, pack=pack),
        procedure_volumes_caveat=dataset.caveat if dataset else None,
        medicare=cms_service.medicare_facts(db=db, npi=npi, pack=pack))


def demo_practitioner_zones(*, db: Session) -> list[tuple[str, str]]:
    """(NPI, IANA time zone) of every active demo practitioner (an individual) whose location has a zone."""
    return [(npi, zone) for npi, zone in db.execute(select(Provider.npi, Provider.time_zone).where(
        Provider.is_demo.is_(True), Provider.is_active.is_(True), Provider.entity_type == 1,
        Provider.time_zone.is_not(None)).order_by(Provider.npi)) if zone is not None]


def distance_to(*, provider: Provider, place: Place) -> float | None:
    if provider.lat is None or provider.lon is None:
        return None
    return haversine_miles(place.lat, place.lon, provider.lat, provider.lon)


def update_managed_fields(*, db: Session, npi: str, fields: ManagedFieldsUpdate) -> Provider:
    """Replace the provider-managed fields of one provider (an import never touches these)."""
    provider = get_provider(db=db, npi=npi)
    provider.insurance_plans = [p.value for p in fields.insurance_plans]
    provider.languages = [language.value for language in fields.languages]
    provider.telehealth = fields.telehealth
    provider.accepting_new = fields.accepting_new
    provider.services = [s.value for s in fields.services]
    provider.bio = fields.bio
    provider.profile_confirmed = fields.profile_confirmed
    db.commit()
    return provider
