"""The site a request is for: the public apex, HQ, the partner portal or one campus.

Core only knows the shape of a site; `tenants` resolves the host into one and puts it on `g`.
Views say which kinds of site they exist on, so a route of one site is a 404 on every other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Any

from flask import abort, g, has_request_context

RESERVED_SUBDOMAINS = frozenset({"hq", "partners", "www", "api", "admin", "static"})


class SiteKind(StrEnum):
    PUBLIC = "public"
    HQ = "hq"
    PARTNERS = "partners"
    CAMPUS = "campus"


@dataclass(frozen=True)
class Site:
    kind: SiteKind
    campus_id: int | None = None
    campus_slug: str | None = None

    @property
    def key(self) -> str:
        """A stable name for the site, stored with sessions and API tokens."""
        if self.kind is SiteKind.CAMPUS:
            return f"campus:{self.campus_id}"
        return self.kind.value


def current_site() -> Site | None:
    """The site of the current request, or None outside a request (CLI, tests)."""
    if not has_request_context():
        return None
    return g.get("site")


def site_url(
    domain: str, subdomain: str | None = None, path: str = "/", scheme: str = "http"
) -> str:
    """Absolute URL of a page on another site of the same deployment."""
    host = f"{subdomain}.{domain}" if subdomain else domain
    return f"{scheme}://{host}{path}"


def on_sites(*kinds: SiteKind) -> Callable:
    """Restrict a view to some kinds of site; everywhere else it does not exist (404)."""
    allowed = frozenset(kinds)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            site = current_site()
            if site is None or site.kind not in allowed:
                abort(404)
            return view(*args, **kwargs)

        wrapper.site_kinds = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view as open to anonymous visitors (read by the isolation tests)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def site_kinds_of(view: Callable) -> Iterable[SiteKind]:
    return getattr(view, "site_kinds", tuple(SiteKind))
