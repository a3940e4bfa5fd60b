"""Loads fusioncare/web/wording.yaml (page wording the pack does not hold) and checks it against the contract."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from fusioncare.triage.schemas import Symptom

WORDING_FILE = Path(__file__).with_name("wording.yaml")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OneOfOption(_Model):
    code: Symptom
    label: str = Field(min_length=1)


class OneOf(_Model):
    """Symptoms of one question group asked as a single choice (radio buttons) instead of separate boxes."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    legend: str = Field(min_length=1)
    hint: str = ""
    none_label: str = Field(min_length=1)
    options: list[OneOfOption] = Field(min_length=2)


class Wording(_Model):
    what_to_say: dict[Symptom, str]
    one_of: list[OneOf] = Field(default_factory=list)

    def say(self, code: Symptom, fallback: str) -> str:
        return self.what_to_say.get(code, fallback)


@lru_cache(maxsize=1)
def get_wording() -> Wording:
    """Checked once; an unknown symptom code stops start-up naming it."""
    return Wording.model_validate(yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8")))
