"""Test support: every route of the real app, discovered from the app itself, with the parameters it reads.

Declared parameters come from FastAPI's dependency tree (path, query, form fields, JSON body); pages that read
their form or query by hand are covered by the names their own HTML forms send (see ``form_fields_by_action``).
A new route or form is therefore covered by the tests that use this catalogue without anyone listing it.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

from fastapi.params import Form
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str  # the template, e.g. /api/v1/appointments/{appointment_id}
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    form_params: tuple[str, ...]
    json_fields: tuple[str, ...] | None  # None: no JSON body
    path_regex: re.Pattern = field(compare=False, repr=False)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _names(params) -> list[str]:
    names = []
    for param in params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # a query-parameter model
            names += [info.alias or name for name, info in annotation.model_fields.items()]
        else:
            names.append(param.alias or param.name)
    return names


def routes_of(app) -> list[RouteInfo]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path.endswith("openapi.json"):
            continue
        dependant = route.dependant
        body = [p for p in dependant.body_params]
        forms = [p for p in body if isinstance(p.field_info, Form)]
        json_body = [p for p in body if not isinstance(p.field_info, Form)]
        json_fields = None
        if json_body:
            annotation = json_body[0].field_info.annotation
            json_fields = tuple(annotation.model_fields) if isinstance(annotation, type) and issubclass(
                annotation, BaseModel) else ()
        for method in sorted(context.methods or ()):
            if method == "HEAD":
                continue
            found.append(RouteInfo(method=method, path=context.path, path_params=tuple(_names(dependant.path_params)),
                                   query_params=tuple(_names(dependant.query_params)),
                                   form_params=tuple(_names(forms)), json_fields=json_fields,
                                   path_regex=context.path_regex))
    return found


@lru_cache(maxsize=1)
def all_routes() -> tuple[RouteInfo, ...]:
    """The routes of an app built with throwaway settings (for test parametrization at collection time)."""
    from fusioncare.db import make_engine
    from fusioncare.main import create_app
    from fusioncare.settings import Settings

    app = create_app(Settings(env="test", data_dir=tempfile.mkdtemp(prefix="fusioncare-routes-"),
                              secret_key="route-catalogue-" + "k" * 32), engine=make_engine("sqlite://"))
    return tuple(routes_of(app))


class _Forms(HTMLParser):
    """Collects (method, action, field names) for every <form> on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, set[str]]] = []
        self._current: tuple[str, str, set[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._current = ((attributes.get("method") or "get").upper(), attributes.get("action") or "", set())
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea", "button") and self._current and attributes.get("name"):
            self._current[2].add(attributes["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_on(html: str, page_path: str) -> list[tuple[str, str, set[str]]]:
    parser = _Forms()
    parser.feed(html)
    return [(method, action or page_path, names) for method, action, names in parser.forms]


def fields_for(route: RouteInfo, forms: list[tuple[str, str, set[str]]]) -> set[str]:
    """Names the pages' own forms send to this route (the route's regex matches the form's action)."""
    wanted = "GET" if route.method == "GET" else "POST"
    names: set[str] = set()
    for method, action, fields in forms:
        if method == wanted and route.path_regex.match(action.split("?")[0]):
            names |= fields
    return names - {"csrf_token"}


class _Values(HTMLParser):
    """name -> values offered by inputs, checkboxes, radio buttons and the options of selects."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, set[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name, value = attributes.get("name"), attributes.get("value")
        if tag == "select":
            self._select = name
        elif tag == "option" and self._select and value is not None:
            self.values.setdefault(self._select, set()).add(value)
        elif tag in ("input", "button") and name and value is not None:
            self.values.setdefault(name, set()).add(value)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def values_on(html: str) -> dict[str, set[str]]:
    parser = _Values()
    parser.feed(html)
    return parser.values
