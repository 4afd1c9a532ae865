"""Security headers on every response, and the hosts the app answers to.

The policy is the same for every response (pages, JSON, files, errors), so no view can forget
it: scripts and styles only from our own origin (no inline code anywhere: templates pass values
to `static/js/*.js` through `data-*` attributes), no framing of our pages, no MIME sniffing.
Stripe's own origins are allowed only on a deployment that shows Stripe's card form.

Hosts: Flask refuses a `Host` outside `TRUSTED_HOSTS` (the apex of `CAMPUSFLOW_DOMAIN` and its
subdomains) with a 400, before any other hook runs. Load balancers probe `/healthz` and
`/readyz` by IP address, so those two paths are answered on any host: they read nothing from
the host and show nothing of any site.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response, request
from werkzeug.exceptions import SecurityError

PROBE_PATHS = frozenset({"/healthz", "/readyz"})

# What Stripe.js needs (Stripe's integration security guide): its script, its iframes (card
# form, 3-D Secure) and its API, all on Stripe's domains; Stripe requires loading it from there.
STRIPE_SCRIPTS = ("https://js.stripe.com", "https://*.js.stripe.com")
STRIPE_FRAMES = (*STRIPE_SCRIPTS, "https://hooks.stripe.com")
STRIPE_API = ("https://api.stripe.com",)

# Powerful browser features no page of ours uses; `payment` is left alone for Stripe's form.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"


def register_security(app: Flask) -> None:
    """Trust only the configured domain's hosts and add the security headers to every response."""
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["CAMPUSFLOW_DOMAIN"])
    app.request_class = CampusflowRequest
    # First of all hooks: nothing (CSRF, throttling, site resolution) runs for a foreign host.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_untrusted_host)
    headers = security_headers(app.config)
    hsts = strict_transport_security(app.config)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # setdefault: a view that set one of these on purpose keeps its own value.
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if hsts and request.is_secure:  # RFC 6797: never over plain HTTP
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response


def trusted_hosts(domain: str) -> list[str]:
    """Flask's `TRUSTED_HOSTS` for `domain`: its apex and every subdomain (ports are ignored).

    >>> trusted_hosts("Campusflow.example:443")
    ['campusflow.example', '.campusflow.example']
    """
    apex = canonical_host(domain.strip()).partition(":")[0]
    return [apex, "." + apex]


def canonical_host(host: str) -> str:
    """`host` as DNS compares names: lower-cased, without the one trailing dot of a fully
    qualified name (`Molenbeek.Example.org.:8080` → `molenbeek.example.org:8080`).

    Werkzeug's trusted-host check compares the header as sent; browsers send it lower-cased,
    but the site resolution (tenants/hosts.py) accepts every spelling of the same name.
    """
    host = host.lower()
    if host.startswith("["):  # an IPv6 literal: no name to tidy
        return host
    name, colon, port = host.partition(":")
    if name.endswith(".") and not name.endswith(".."):  # `a..` has an empty label: not a name
        name = name[:-1]
    return name + colon + port


class CampusflowRequest(Request):
    """Flask's request with the `Host` header in canonical form, and the health probes exempt
    from `TRUSTED_HOSTS` (Flask sets `trusted_hosts` from the config on every request)."""

    _trusted_hosts: list[str] | None = None

    def __init__(self, environ: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        host = environ.get("HTTP_HOST")
        if host:
            environ["HTTP_HOST"] = canonical_host(host)
        super().__init__(environ, *args, **kwargs)

    @property  # type: ignore[override]
    def trusted_hosts(self) -> list[str] | None:
        # Probes come by IP address from load balancers; the answers use nothing of the host.
        return None if self.path in PROBE_PATHS else self._trusted_hosts

    @trusted_hosts.setter
    def trusted_hosts(self, value: list[str] | None) -> None:
        self._trusted_hosts = value


def refuse_untrusted_host() -> None:
    """400 for a host outside `TRUSTED_HOSTS`.

    Flask notes the refusal while routing but raises it only when it dispatches the view, after
    the other `before_request` hooks; raising it here keeps them from running on such a request.
    """
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def content_security_policy(config: Mapping[str, Any]) -> str:
    """The CSP: our own origin only, plus Stripe's where Stripe's card form can be shown."""
    stripe = stripe_js_enabled(config)
    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'", *(STRIPE_SCRIPTS if stripe else ())),
        "style-src": ("'self'",),
        "img-src": ("'self'", "data:"),
        "connect-src": ("'self'", *(STRIPE_API if stripe else ())),
        "frame-src": STRIPE_FRAMES if stripe else ("'self'",),
        "frame-ancestors": ("'none'",),
        "base-uri": ("'self'",),
        "form-action": ("'self'",),
        "object-src": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def stripe_js_enabled(config: Mapping[str, Any]) -> bool:
    """Stripe.js can run here: a publishable key is set and no local test server replaces
    Stripe (with one, our own test-card form takes the card and no Stripe script is loaded)."""
    return bool(config.get("STRIPE_PUBLISHABLE_KEY")) and not config.get("STRIPE_API_BASE")


def security_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """The headers every response carries (HSTS apart: it depends on the request's scheme)."""
    return {
        "Content-Security-Policy": content_security_policy(config),
        # For browsers without CSP frame-ancestors.
        "X-Frame-Options": "DENY",
        # Full URLs only within one origin: a payment link (`/pay/<token>`) never leaves the
        # site in a Referer, while Stripe and other sites still see which site sent the visitor.
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": PERMISSIONS_POLICY,
    }


def strict_transport_security(config: Mapping[str, Any]) -> str | None:
    """The HSTS header in production (None elsewhere, or with `HSTS_MAX_AGE=0`).

    Every site is a subdomain of the apex and served over HTTPS, hence `includeSubDomains`.
    """
    max_age = int(config.get("HSTS_MAX_AGE") or 0)
    if config.get("CAMPUSFLOW_ENV") != "production" or max_age <= 0:
        return None
    return f"max-age={max_age}; includeSubDomains"
