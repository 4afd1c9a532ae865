"""Navigation links each feature registers for the kinds of site and roles it serves."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from core.sites import SiteKind

_EXTENSION_KEY = "campusflow.navigation"


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str  # a lazy_gettext string
    sites: frozenset[SiteKind]
    roles: frozenset[str] | None = None  # None: everybody signed in on the site
    order: int = 100


def register_nav(app: Flask, item: NavItem) -> None:
    """Add a link to the navigation of `item.sites` (for `item.roles`, signed in)."""
    app.extensions.setdefault(_EXTENSION_KEY, []).append(item)


def nav_items(app: Flask, site_kind: SiteKind | None, role: str | None) -> list[NavItem]:
    items = [
        item for item in app.extensions.get(_EXTENSION_KEY, [])
        if site_kind in item.sites and (item.roles is None or role in item.roles)
    ]
    return sorted(items, key=lambda item: item.order)
