"""Loads the recovery measures (MCID thresholds, ODI bands, PGIC scale) from the knowledge pack, validated once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fusioncare.knowledge.loader import DEFAULT_PACK_DIR

MEASURES_FILE = "recovery_measures.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeasureSource(_Strict):
    id: str
    title: str
    publisher: str
    year: int
    note: str = ""


class Measure(_Strict):
    """A tracked measure where lower is better, and the smallest change that matters to patients."""

    code: str
    name: str
    scale_max: float = Field(gt=0)
    min_points: float = Field(gt=0)
    min_percent: float | None = Field(default=None, gt=0, le=100)
    source: str


class OdiBand(_Strict):
    up_to: float
    band: str
    meaning: str


class PgicPoint(_Strict):
    value: int = Field(ge=1, le=7)
    label: str
    meaningful_improvement: bool


class RecoveryMeasures(_Strict):
    sources: list[MeasureSource]
    measures: list[Measure]
    odi_bands: list[OdiBand]
    odi_source: str
    pgic_points: list[PgicPoint] = Field(min_length=7, max_length=7)
    pgic_source: str
    odi_sections: list[str] = Field(min_length=10, max_length=10)

    @model_validator(mode="after")
    def _references_resolve(self) -> RecoveryMeasures:
        known = {s.id for s in self.sources}
        cited = [m.source for m in self.measures] + [self.odi_source, self.pgic_source]
        if missing := sorted(set(cited) - known):
            raise ValueError(f"unknown source ids: {', '.join(missing)}")
        edges = [b.up_to for b in self.odi_bands]
        if edges != sorted(edges) or edges[-1] != 100:
            raise ValueError("odi_bands must rise and end at 100")
        if [p.value for p in self.pgic_points] != list(range(1, 8)):
            raise ValueError("pgic_points must be the values 1..7 in order")
        return self

    def measure(self, code: str) -> Measure:
        return next(m for m in self.measures if m.code == code)

    def source(self, source_id: str) -> MeasureSource:
        return next(s for s in self.sources if s.id == source_id)


@lru_cache(maxsize=4)
def get_measures(directory: Path = DEFAULT_PACK_DIR) -> RecoveryMeasures:
    data = yaml.safe_load((directory / MEASURES_FILE).read_text(encoding="utf-8"))
    return RecoveryMeasures.model_validate(data)
