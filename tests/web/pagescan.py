"""Reads our pages the way a browser without JavaScript would: forms, their fields, labels and what is inline."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    hidden: list[tuple[str, str]] = field(default_factory=list)
    # (type, name, value, checked) for visible radios, checkboxes and text-like inputs; selects as type "select"
    inputs: list[tuple[str, str, str, bool]] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)


@dataclass
class Page:
    forms: list[Form] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    controls: list[dict[str, str]] = field(default_factory=list)  # every visible input/select/textarea's attributes
    inline_problems: list[str] = field(default_factory=list)
    field_errors: dict[str, str] = field(default_factory=dict)  # field id -> its error text
    text: str = ""


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._form: Form | None = None
        self._in: list[str] = []
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._button: dict[str, str] | None = None
        self._button_text: list[str] = []
        self._error_id: str | None = None
        self._error_text: list[str] = []
        self._texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.page.ids.append(a["id"])
        if "style" in a:
            self.page.inline_problems.append(f"style attribute on <{tag}>")
        for name in a:
            if name.startswith("on"):
                self.page.inline_problems.append(f"{name} handler on <{tag}>")
        if tag == "style":
            self.page.inline_problems.append("<style> element")
        if tag == "script" and "src" not in a:
            self.page.inline_problems.append("inline <script>")
        if tag == "a" and a.get("href", "").lower().startswith("javascript:"):
            self.page.inline_problems.append("javascript: link")
        if tag == "label" and "for" in a:
            self.page.label_for.add(a["for"])
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.page.forms.append(self._form)
        elif tag == "input":
            kind = a.get("type", "text")
            if kind == "hidden":
                if self._form is not None:
                    self._form.hidden.append((a.get("name", ""), a.get("value", "")))
            else:
                self.page.controls.append(a)
                if self._form is not None:
                    self._form.inputs.append((kind, a.get("name", ""), a.get("value", ""), "checked" in a))
        elif tag in ("select", "textarea"):
            self.page.controls.append(a)
            if tag == "select":
                self._select = (a.get("name", ""), [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))
        elif tag == "button":
            self._button, self._button_text = a, []
        elif tag == "p" and "field-error" in a.get("class", ""):
            self._error_id, self._error_text = a.get("id", ""), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = next((v for v, sel in options if sel), options[0][0] if options else "")
            if self._form is not None:
                self._form.inputs.append(("select", name, chosen, True))
            self._select = None
        elif tag == "button" and self._button is not None:
            if self._form is not None:
                self._form.buttons.append((self._button.get("name", ""), self._button.get("value", ""),
                                           " ".join("".join(self._button_text).split())))
            self._button = None
        elif tag == "p" and self._error_id is not None:
            self.page.field_errors[self._error_id.removesuffix("-error")] = " ".join("".join(self._error_text).split())
            self._error_id = None

    def handle_data(self, data: str) -> None:
        self._texts.append(data)
        if self._button is not None:
            self._button_text.append(data)
        if self._error_id is not None:
            self._error_text.append(data)


def scan(html: str) -> Page:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    scanner.page.text = " ".join(" ".join(scanner._texts).split())
    return scanner.page


def unlabelled_controls(page: Page) -> list[str]:
    """Visible form controls with no <label for>, and no aria-label."""
    return [f"<{c.get('type', 'control')} name={c.get('name')!r} id={c.get('id')!r}>" for c in page.controls
            if not (c.get("id") and c["id"] in page.label_for) and not c.get("aria-label")]
