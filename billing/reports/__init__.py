"""HQ's consolidated revenue figures. Registered by billing.init_app."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    """Register the revenue page, its exports and the JSON report, and their navigation."""
    from billing.reports import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("reports.revenue", _l("Revenue"), frozenset({SiteKind.HQ}),
                              roles=frozenset({"hq_admin"}), order=70))
