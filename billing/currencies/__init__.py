"""Currencies: see models.py. Registered by billing.init_app."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    """Register HQ's exchange-rate page and API, and their navigation."""
    from billing.currencies import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("fx.index", _l("Exchange rates"), frozenset({SiteKind.HQ}),
                              roles=frozenset({"hq_admin"}), order=72))
