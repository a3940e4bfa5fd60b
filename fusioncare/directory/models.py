"""Directory tables: providers keyed by NPI, and the spatial search index derived from them."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from fusioncare.db import Base


def _code(length: int) -> String:
    """An ASCII code (NPI, procedure code) compared byte by byte: the "C" collation on PostgreSQL, where the
    database's locale collation would cost a libc strcoll per comparison in the key's B-tree (migration 0014)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class JsonText(TypeDecorator[Any]):
    """JSON in a text column on every database, read back as Python values. The CMS import writes the text
    already serialized (and proven valid by its tests); PostgreSQL's json type would parse every value again,
    which measured about a third of the time of COPYing the practices."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class Provider(Base):
    """One NPPES record (practitioner or organization) plus the fields the provider manages."""

    __tablename__ = "directory_providers"

    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    entity_type: Mapped[int] = mapped_column(SmallInteger)  # 1 practitioner, 2 organization
    display_name: Mapped[str] = mapped_column(String(200))
    # Lower-case ASCII name tokens for forgiving name search.
    name_search: Mapped[str] = mapped_column(String(300))
    organization_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(100))
    first_name: Mapped[str | None] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    name_prefix: Mapped[str | None] = mapped_column(String(20))
    name_suffix: Mapped[str | None] = mapped_column(String(20))
    credential: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(1))
    # [{"code": "207Q00000X", "primary": true}, ...] in file order.
    taxonomies: Mapped[list] = mapped_column(JSON, default=list)
    specialties: Mapped[list] = mapped_column(JSON, default=list)
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(40))
    postal_code: Mapped[str | None] = mapped_column(String(20))  # as filed (5 or 9 digits, or foreign)
    zip_code: Mapped[str | None] = mapped_column(String(5))  # first five digits, US only
    country_code: Mapped[str] = mapped_column(String(2), default="US")
    phone: Mapped[str | None] = mapped_column(String(20))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    time_zone: Mapped[str | None] = mapped_column(String(40))
    enumeration_date: Mapped[date | None] = mapped_column(Date)
    last_update_date: Mapped[date | None] = mapped_column(Date)
    deactivation_date: Mapped[date | None] = mapped_column(Date)
    reactivation_date: Mapped[date | None] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Provenance of the registry fields: which file last changed them, and when it was imported.
    source_file: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Digest of the registry fields, so a re-import can tell "unchanged" without comparing columns.
    source_digest: Mapped[str] = mapped_column(String(32))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    # Provider-managed fields: empty after an import, never overwritten by one.
    insurance_plans: Mapped[list] = mapped_column(JSON, default=list)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    telehealth: Mapped[bool | None] = mapped_column(Boolean)
    accepting_new: Mapped[bool | None] = mapped_column(Boolean)
    services: Mapped[list] = mapped_column(JSON, default=list)
    bio: Mapped[str | None] = mapped_column(Text)
    profile_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)


class SearchIndexEntry(Base):
    """One row per (active, geocoded provider, searchable code): the spatial index search scans.

    Rows are bucketed by latitude band; a radius query reads a few bands, each as an index range on
    longitude, then filters exactly by great-circle distance. Plain B-tree indexes, so it works the same
    on SQLite and PostgreSQL.
    """

    __tablename__ = "directory_search_index"

    # Primary key (npi, specialty) also serves "drop this provider's rows" on an update.
    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    specialty: Mapped[str] = mapped_column(String(40), primary_key=True)
    lat_band: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        # Covering index: the band scan never touches the table.
        Index("ix_directory_search_index_cell", "specialty", "lat_band", "lon", "lat", "npi"),
    )


class ImportRun(Base):
    """One data import (an NPPES file today; CMS files may record theirs too): when, from which file, the
    outcome and the row counts of its report. Operators read the last successful one per source in /metrics."""

    __tablename__ = "directory_import_runs"
    __table_args__ = (
        CheckConstraint("status IN ('succeeded', 'failed')", name="status_known"),
        Index("ix_directory_import_runs_source_finished_at", "source", "finished_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))  # "nppes"
    source_file: Mapped[str] = mapped_column(String(255))
    all_taxonomies: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deactivated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))  # the exception type of a failed run, never row data

    COUNTS = ("rows", "imported", "updated", "deactivated", "skipped", "rejected", "unchanged")

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTS}


class ProcedureVolume(Base):
    """CMS "by Provider and Service": how many Medicare patients and services one clinician had for one procedure
    code at one place of service in one data year. Only the codes the knowledge pack names are kept. Keyed by NPI
    without a foreign key: a clinician not (yet) in the directory keeps their figures for a later NPPES import."""

    __tablename__ = "cms_procedure_volumes"
    __table_args__ = (
        CheckConstraint("place_of_service IN ('F', 'O')", name="place_known"),
        CheckConstraint("patients >= 11", name="published_count"),
    )

    npi: Mapped[str] = mapped_column(_code(10), primary_key=True)
    hcpcs_code: Mapped[str] = mapped_column(_code(5), primary_key=True)
    place_of_service: Mapped[str] = mapped_column(_code(1), primary_key=True)  # F facility, O office
    data_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    patients: Mapped[int] = mapped_column(Integer)  # Tot_Benes, 11 or more (CMS suppresses smaller counts)
    services: Mapped[float] = mapped_column(Float)  # Tot_Srvcs, may be fractional
    source_file: Mapped[str] = mapped_column(String(255))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


# The order of a practice's values in ClinicianFacts.practices.
PRACTICE_FIELDS = ("name", "address_line1", "address_line2", "city", "state", "zip_code", "phone")


class ClinicianFacts(Base):
    """One row per clinician the directory holds, from CMS's Doctors and Clinicians file: what the file says
    across all of the clinician's rows (each import replaces the previous file's rows), written while the import
    reads the file.

    ``practices`` is a JSON list, in file order, of one list per row of the clinician in the file (a group
    practice and address): ``[name, address_line1, address_line2, city, state, zip_code, phone]``
    (PRACTICE_FIELDS; ``name`` is the group's legal name), null where the file leaves the value blank, stored as
    text. One row and one index entry per clinician instead of two of each, and no provenance repeated on every
    row (migration 0016, docs/directory.md): the file's name, release year and demo flag are in ClinicianFile."""

    __tablename__ = "cms_clinicians"
    __table_args__ = (
        CheckConstraint("accepts_assignment IN ('always', 'sometimes')", name="assignment_known"),
    )

    npi: Mapped[str] = mapped_column(_code(10), primary_key=True)
    accepts_assignment: Mapped[str | None] = mapped_column(String(10))
    telehealth: Mapped[bool | None] = mapped_column(Boolean)
    medical_school: Mapped[str | None] = mapped_column(String(200))
    graduation_year: Mapped[int | None] = mapped_column(SmallInteger)
    specialty: Mapped[str | None] = mapped_column(String(100))
    practices: Mapped[list[list[str | None]]] = mapped_column(JsonText)


class ClinicianFile(Base):
    """The Doctors and Clinicians file the rows of ClinicianFacts come from: one row, replaced with them by each
    import (none before the first)."""

    __tablename__ = "cms_clinicians_file"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1, autoincrement=False)
    source_file: Mapped[str] = mapped_column(String(255))
    data_year: Mapped[int] = mapped_column(SmallInteger)  # the year of the file's release
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
