"""Panels that higher layers add to pages of lower ones (e.g. billing's money figures on the
campus dashboard, which `tenants` renders without importing `billing`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from markupsafe import Markup

_EXTENSION_KEY = "campusflow.panels"


@dataclass(frozen=True)
class Panel:
    page: str  # e.g. "campus_dashboard"
    render: Callable[[], Markup | str]  # renders its own template; reads g/current_user itself
    roles: frozenset[str] | None = None  # role values that see it; None: everyone on the page
    order: int = 100


def register_panel(app: Flask, panel: Panel) -> None:
    app.extensions.setdefault(_EXTENSION_KEY, []).append(panel)


def render_panels(app: Flask, page: str, role: str | None) -> list[Markup]:
    panels = sorted((p for p in app.extensions.get(_EXTENSION_KEY, [])
                     if p.page == page and (p.roles is None or role in p.roles)),
                    key=lambda p: p.order)
    return [Markup(panel.render()) for panel in panels]  # noqa: S704  (rendered templates)
