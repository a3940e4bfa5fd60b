"""Turns Pydantic validation errors into messages that name the field and say what is allowed.

Used by the JSON API (422 bodies), the CLI (stderr, exit 2) and the web forms (message beside the field),
so every way in explains bad input the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin

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
    """('symptoms', 2) -> 'symptoms[2]'; ('body', 'leg_pain') -> 'leg_pain'; ('body', 0) of a JSON error -> ''."""
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return ""  # FastAPI puts the character position of a JSON syntax error here, not a list index
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


_BODY_SHAPE = ("model_attributes_type", "dict_type", "model_type")
# Our own error types (PydanticCustomError) whose message already says what is allowed.
_SELF_EXPLAINING = ("long_standing_not_reported",)
_RANGE_WORDS = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}


def _field_name(loc: tuple[str | int, ...] | list[str | int]) -> str | None:
    """The top-level model field an error is about, skipping the 'body' prefix and a batch index."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    if parts and isinstance(parts[0], int):
        parts = parts[1:]
    return parts[0] if parts and isinstance(parts[0], str) else None


def allowed_values(model: type[BaseModel] | None, name: str | None) -> str | None:
    """Plain words for what a field accepts, e.g. 'a whole number from 0 to 10' or 'one of: a, b, c'."""
    if model is None or name is None or name not in model.model_fields:
        return None
    info = model.model_fields[name]
    annotation = info.annotation
    optional = get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation)
    if optional:  # "X or null": describe X (null is the default and always fine)
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = rest[0] if len(rest) == 1 else annotation
    prefix = ""
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
        prefix = "a list of "
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values = ", ".join(str(member.value) for member in annotation)
        return f"{prefix}values from: {values}" if prefix else f"one of: {values}"
    if annotation is bool:
        return "true or false"
    bounds = {key: getattr(meta, key) for meta in info.metadata for key in _RANGE_WORDS if hasattr(meta, key)}
    kinds: dict[object, str] = {int: "a whole number", float: "a number", str: "text"}
    kind = kinds.get(annotation)
    if kind is None:
        return None
    if "ge" in bounds and "le" in bounds:
        return f"{prefix}{kind} from {bounds['ge']} to {bounds['le']}"
    limits = " and ".join(f"{_RANGE_WORDS[key]} {value}" for key, value in bounds.items())
    return f"{prefix}{kind}" + (f", {limits}" if limits else "")


def _required_fields(model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    return f"; required fields are: {', '.join(required)}" if required else ""


def _describe(err: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    loc = tuple(err.get("loc", ()))
    name = _field_name(loc)
    if kind == "json_invalid":
        position = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
        return f"the body is not valid JSON ({ctx.get('error', 'parse error')}{position})"
    if name is None and kind == "missing":
        return "the request is empty; expected a JSON object" + _required_fields(model)
    if name is None and kind in _BODY_SHAPE:
        return "expected a JSON object" + _required_fields(model)
    if kind == "extra_forbidden":
        fields = sorted(model.model_fields) if model is not None and name is not None else None
        return "unknown field" + (f"; allowed fields are: {', '.join(fields)}" if fields else "")
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        return f"{_quote(err.get('input'))} is not allowed; allowed values are: {expected}"
    if kind in _SELF_EXPLAINING:
        return str(err.get("msg", "invalid value"))
    allowed = allowed_values(model, name)
    base = "this field is required" if kind == "missing" else err.get("msg", "invalid value")
    return f"{base}; allowed: {allowed}" if allowed else base


def _quote(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def problems(errors: Sequence[Mapping[str, Any]], model: type[BaseModel] | None = None) -> list[FieldProblem]:
    return [
        FieldProblem(field=field_path(e.get("loc", ())), message=_describe(e, model), type=e.get("type", ""),
                     loc=tuple(e.get("loc", ())))
        for e in errors
    ]


def problems_from(exc: ValidationError, model: type[BaseModel] | None = None) -> list[FieldProblem]:
    return problems(exc.errors(include_url=False), model)
