"""The shared catalogue owned by HQ. Registered by core.app."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    """Register the catalogue's blueprints (public pages, HQ pages, JSON API) and navigation."""
    from core.catalogue import api, models, views  # noqa: F401  (models mapped before queries)

    app.register_blueprint(views.bp)
    app.register_blueprint(views.admin)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("catalogue_admin.courses", _l("Catalogue"),
                              frozenset({SiteKind.HQ}), roles=frozenset({"hq_admin"}), order=30))
    # Everybody signed in on a campus site (HQ, managers, staff) reads the shared catalogue.
    register_nav(app, NavItem("catalogue.index", _l("Catalogue"), frozenset({SiteKind.CAMPUS}),
                              order=60))
