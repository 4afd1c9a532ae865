"""What the layout (templates/base.html) shows besides the links features register.

- The area of the site a page belongs to: a campus's public pages (its home for visitors, the
  catalogue, events, applying) get the public navigation even for a signed-in manager, so an
  applicant never sees staff links and staff see what applicants see.
- The public navigation of the apex and of each campus.
- The error summary of a form shown again with errors: one link per invalid field, to the id of
  the field in the page, named by the field's own label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.navigation import NavItem
from core.sites import Site, SiteKind, current_site, site_kinds_of

BOTH = frozenset({SiteKind.PUBLIC, SiteKind.CAMPUS})

# Endpoints are names, not imports: core never imports the features built on top of it, and an
# item whose endpoint does not exist on the app (or not on that kind of site) is left out.
PUBLIC_NAV = (
    NavItem("core.home", _l("Home"), BOTH, order=0),
    NavItem("catalogue.index", _l("Courses"), BOTH, order=10),
    NavItem("public_events.upcoming", _l("Upcoming events"), frozenset({SiteKind.CAMPUS}),
            order=20),
    NavItem("apply.open_cohorts", _l("Apply"), frozenset({SiteKind.CAMPUS}), order=30),
)


def install(app: Flask) -> None:
    """Give the templates `site_area`, `public_nav` and `error_summary_items`."""
    @app.context_processor
    def layout_context() -> dict[str, Any]:
        site = current_site()
        area = site_area(site)
        return {
            "site_area": area,
            "public_nav": public_nav(current_app, site.kind) if area == "public" and site else [],
            "error_summary_items": error_summary_items,
        }


def site_area(site: Site | None) -> str | None:
    """`public`, `campus`, `hq` or `partners`: which header and navigation the page gets."""
    if site is None:
        return None
    if site.kind is SiteKind.PUBLIC:
        return "public"
    if site.kind is not SiteKind.CAMPUS:
        return site.kind.value
    if not getattr(current_user, "is_authenticated", False):
        return "public"
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    # The home page is public on every site, but a campus's people get their dashboard there.
    if view is not None and getattr(view, "is_public", False) and endpoint not in (
            "core.home", "auth.login", "auth.logout"):
        return "public"
    return "campus"


def public_nav(app: Flask, kind: SiteKind) -> list[NavItem]:
    """The public links of a site kind whose pages exist on this app."""
    items = []
    for item in PUBLIC_NAV:
        view = app.view_functions.get(item.endpoint)
        if kind in item.sites and view is not None and kind in site_kinds_of(view):
            items.append(item)
    return sorted(items, key=lambda item: item.order)


# ---- the error summary --------------------------------------------------------------------------

@dataclass(frozen=True)
class SummaryItem:
    href: str | None  # "#<id of the field>", None when the page has no such field
    label: str | None  # the text of the field's label
    message: str


def error_summary_items(errors: Any, page: str) -> list[SummaryItem]:
    """One item per invalid field of `errors` (marshmallow's messages: field → messages), in the
    order the fields appear in `page` (the rendered HTML), linked to the field when it is there.
    Errors of the whole form (`_schema`) come first, unlinked."""
    if not isinstance(errors, Mapping) or not errors:
        return []
    controls = _Controls.of(str(page))
    items: list[tuple[int, SummaryItem]] = []
    for key, problems in errors.items():
        message = _flatten(problems)
        if not message:
            continue
        target = controls.target(str(key))
        if target is None:
            position = -1 if key == "_schema" else len(controls.order)
            items.append((position, SummaryItem(None, None, message)))
        else:
            items.append((controls.order.index(target),
                          SummaryItem(f"#{target}", controls.label(str(key), target), message)))
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def _flatten(problems: Any) -> str:
    if isinstance(problems, str):
        return problems
    if isinstance(problems, Mapping):
        return " ".join(filter(None, (_flatten(value) for value in problems.values())))
    if isinstance(problems, list | tuple):
        return " ".join(filter(None, (_flatten(value) for value in problems)))
    return str(problems) if problems is not None else ""


class _Controls(HTMLParser):
    """The form controls of a page: their ids in order, the id of each name, each label's text
    and, for controls in a fieldset, its legend's (text marked aria-hidden, such as the required
    mark, left out)."""

    CONTROLS = frozenset({"input", "select", "textarea"})
    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                      "source", "track", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.order: list[str] = []
        self.by_name: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.legends: dict[str, str] = {}  # control id → the legend of its fieldset
        self._fieldsets: list[str] = []  # the legend text of each open fieldset
        self._reading: dict[str, Any] | None = None  # the label or legend being read
        self._hidden_depth = 0  # > 0 inside an aria-hidden element of a label or legend

    @classmethod
    def of(cls, page: str) -> _Controls:
        parser = cls()
        parser.feed(page)
        parser.close()
        return parser

    def target(self, key: str) -> str | None:
        if key in self.order:
            return key
        return self.by_name.get(key)

    def label(self, key: str, target: str) -> str | None:
        """A group's legend when the error is the group's (its name), else the field's label."""
        if key != target and target in self.legends:
            return self.legends[target]
        return self.labels.get(target)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in self.CONTROLS and attributes.get("type") not in ("hidden", "submit", "button"):
            self._control(attributes)
        if tag == "fieldset":
            self._fieldsets.append("")
        elif tag in ("label", "legend"):
            self._reading = {"tag": tag, "for": attributes.get("for"), "text": []}
        elif self._reading is not None and tag not in self.VOID and (
                self._hidden_depth or attributes.get("aria-hidden") == "true"):
            self._hidden_depth += 1

    def _control(self, attributes: dict[str, str | None]) -> None:
        control_id = attributes.get("id")
        if not control_id:
            return
        self.order.append(control_id)
        if attributes.get("name"):
            self.by_name.setdefault(attributes["name"], control_id)
        if self._fieldsets and self._fieldsets[-1]:
            self.legends[control_id] = self._fieldsets[-1]
        if self._reading is not None and self._reading["tag"] == "label" \
                and not self._reading["for"]:
            self._reading["for"] = control_id  # a label wrapping its control

    def handle_endtag(self, tag: str) -> None:
        if tag == "fieldset" and self._fieldsets:
            self._fieldsets.pop()
        if self._reading is None:
            return
        if tag == self._reading["tag"]:
            text = " ".join("".join(self._reading["text"]).split())
            if tag == "legend" and self._fieldsets:
                self._fieldsets[-1] = text
            elif tag == "label" and self._reading["for"] and text:
                self.labels.setdefault(self._reading["for"], text)
            self._reading = None
            self._hidden_depth = 0
        elif tag not in self.VOID and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._reading is not None and not self._hidden_depth:
            self._reading["text"].append(data)
