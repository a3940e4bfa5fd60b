"""Turns Pydantic validation errors into messages that name the field and say what is allowed.

Used by the JSON API (422 bodies), the CLI (stderr, exit 2) and the web forms (message beside the field),
so every way in explains bad input the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class FieldProblem:
    field: str  # dotted path with list indexes, e.g. "symptoms[2]"; "" for the whole body
    message: str
    type: str
    loc: tuple[str | int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "field": self.field, "msg": self.message, "type": self.type}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def field_path(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """('symptoms', 2) -> 'symptoms[2]'; ('body', 'leg_pain') -> 'leg_pain'."""
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _describe(err: dict[str, Any], model: type[BaseModel] | None) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = sorted(model.model_fields) if model is not None and len(err["loc"]) <= 2 else None
        return "unknown field" + (f"; allowed fields are: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "this field is required"
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        return f"{_quote(err.get('input'))} is not allowed; allowed values are: {expected}"
    if kind == "json_invalid":
        return f"the body is not valid JSON ({ctx.get('error', 'parse error')})"
    return err.get("msg", "invalid value")


def _quote(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def problems(errors: list[dict[str, Any]], model: type[BaseModel] | None = None) -> list[FieldProblem]:
    return [
        FieldProblem(field=field_path(e.get("loc", ())), message=_describe(e, model), type=e.get("type", ""),
                     loc=tuple(e.get("loc", ())))
        for e in errors
    ]


def problems_from(exc: ValidationError, model: type[BaseModel] | None = None) -> list[FieldProblem]:
    return problems(exc.errors(include_url=False), model)
