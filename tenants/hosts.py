"""Host → site. The host alone decides which site (and which campus) a request is for.

The host must be the configured domain or a subdomain of it, compared lower-cased with the port
stripped, as a strict suffix: `molenbeek.localhost.evil.com` is foreign (400). A subdomain that
names no campus is a 404; it never falls back to some campus.
"""

from __future__ import annotations

import re

from flask import abort

from core.sites import RESERVED_SUBDOMAINS, Site, SiteKind
from tenants.campuses.models import Campus
from tenants.campuses.services import SLUG_PATTERN, campus_by_slug

NAMED_SITES = {"www": SiteKind.PUBLIC, "hq": SiteKind.HQ, "partners": SiteKind.PARTNERS}


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def hostname(host: str) -> str:
    """`host` lower-cased, without port or one trailing dot; "" when it is not a DNS name.

    IP literals, empty or over-long labels and anything but digits after the colon are not
    names of ours, so they resolve to nothing (a 400).
    """
    name, colon, port = host.strip().lower().partition(":")
    if colon and not (port.isdigit() and len(port) <= 5):
        return ""
    name = name.removesuffix(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return ""
    return name


def resolve_site(host: str, domain: str) -> tuple[Site, Campus | None]:
    """The site and campus for `host`; aborts 400 for a foreign host, 404 for an unknown site."""
    name, apex = hostname(host), hostname(domain)
    if not name or not apex:
        abort(400)
    if name == apex:
        return Site(SiteKind.PUBLIC), None
    if not name.endswith("." + apex):
        abort(400)
    label = name[: -len(apex) - 1]
    if label in NAMED_SITES:
        return Site(NAMED_SITES[label]), None
    if label in RESERVED_SUBDOMAINS or not SLUG_PATTERN.fullmatch(label):
        abort(404)
    campus = campus_by_slug(label)
    if campus is None:
        abort(404)
    return Site(SiteKind.CAMPUS, campus_id=campus.id, campus_slug=campus.slug), campus
