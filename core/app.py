"""The application factory: a list of `register_*` steps, no I/O."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from core.config import load_config
from core.database import configure_sqlite
from core.errors import database_unavailable, database_unreachable, register_error_handlers
from core.extensions import babel, csrf, db, limiter, migrate
from core.i18n import select_locale
from core.money import format_money
from core.navigation import nav_items
from core.security import register_security
from core.sites import site_url

ROOT = Path(__file__).resolve().parent.parent
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with `overrides` applied last (tests)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(instance_path=app.instance_path))
    app.config.update(overrides or {})
    app.url_map.converters["int"] = IdConverter
    register_proxy(app)
    register_security(app)
    register_logging(app)
    register_extensions(app)
    register_core(app)
    register_features(app)
    register_transaction_boundary(app)
    register_error_handlers(app)
    return app


class IdConverter(IntegerConverter):
    """`<int:…>` in URLs: ids fit a BIGINT, so a larger number is no route (404), not a 500.

    The regex already refuses 19 digits and more: Werkzeug checks `max` only after picking the
    rule, and a number failing it on a path that also has other methods became a 405."""

    regex = r"\d{1,18}"

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def register_proxy(app: Flask) -> None:
    """Behind `TRUSTED_PROXIES` reverse proxies, the client's address and scheme are the ones
    they forward (X-Forwarded-For, X-Forwarded-Proto); with none, those headers are ignored.
    The host is never taken from X-Forwarded-Host: the proxy passes Host on as it came."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_logging(app: Flask) -> None:
    logging.basicConfig(level=app.config["LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_extensions(app: Flask) -> None:
    from core.auth.access import register_login

    db.init_app(app)
    with app.app_context():  # creating an engine opens no connection
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    # CSRF is checked in one hook below, so that bearer-token API calls can skip it.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(ROOT / "translations"))
    register_login(app)


def register_core(app: Flask) -> None:
    from core import catalogue, cli, health, home, i18n, layout, openapi
    from core.auth import api as auth_api
    from core.auth import views as auth_views
    from core.catalogue.demo import seed_catalogue
    from core.demo import seed_platform
    from core.partners import views as partner_views
    from core.seeding import register_seeder

    for blueprint in (health.bp, home.bp, auth_views.bp, auth_api.bp, partner_views.bp,
                      openapi.bp):
        app.register_blueprint(blueprint)
    partner_views.init_app(app)
    i18n.init_app(app)
    catalogue.init_app(app)
    register_seeder(app, seed_platform)
    register_seeder(app, seed_catalogue)
    cli.register(app)
    layout.install(app)

    @app.template_filter("money")
    def money_filter(amount_minor: int, currency: str) -> str:
        from flask_babel import get_locale

        return format_money(amount_minor, currency, str(get_locale() or "en"))

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        from flask_babel import get_locale

        from core.sites import SiteKind, current_site

        site = current_site()
        role = current_user.role.value if getattr(current_user, "is_authenticated", False) else None
        nav = nav_items(app, site.kind if site else None, role) if role else []
        return {"current_site": site, "SiteKind": SiteKind, "get_locale": get_locale,
                "domain": app.config["CAMPUSFLOW_DOMAIN"], "site_url": _site_url, "nav": nav}

    def _site_url(subdomain: str | None = None, path: str = "/") -> str:
        return site_url(app.config["CAMPUSFLOW_DOMAIN"], subdomain, path,
                        app.config["PREFERRED_URL_SCHEME"])


def register_features(app: Flask) -> None:
    """Load the feature packages named in CAMPUSFLOW_FEATURES (`tenants`, `billing`).

    Core names them only in configuration, so it never imports the layers built on top of it.
    """
    for name in app.config["CAMPUSFLOW_FEATURES"]:
        importlib.import_module(name).init_app(app)


def register_transaction_boundary(app: Flask) -> None:
    @app.before_request
    def check_csrf() -> None:
        if request.method not in UNSAFE_METHODS or not app.config["WTF_CSRF_ENABLED"]:
            return
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "csrf_exempt", False):
            return
        # A forged cross-site request rides on the session cookie; an API call made with a
        # bearer token, or with no signed-in session at all, has no session to ride on.
        if request.path.startswith("/api/") and (
            request.headers.get("Authorization", "").startswith("Bearer ")
            or "_user_id" not in session
        ):
            return
        csrf.protect()

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        # One transaction per request: kept only when the request succeeded.
        try:
            if response.status_code < 400:
                db.session.commit()
            else:
                db.session.rollback()
        except DBAPIError as error:
            # Error handlers do not see what fails here: a database gone at COMMIT is the same
            # brief outage as one gone during the view (503), anything else a bug (raised).
            if not database_unreachable(error):
                raise
            return database_unavailable(error)
        return response


def select_timezone() -> str | None:
    """The campus's timezone on a campus site (times display as the campus lives them)."""
    return g.get("site_timezone") if has_request_context() else None
