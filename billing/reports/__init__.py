"""HQ's consolidated revenue figures. Registered by billing.init_app."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.panels import Panel, register_panel
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    """Register the revenue page, its exports and the JSON report, their navigation, and the
    network's revenue on HQ's home page."""
    from billing.reports import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("reports.revenue", _l("Revenue"), frozenset({SiteKind.HQ}),
                              roles=frozenset({"hq_admin"}), order=70))
    register_panel(app, Panel(page="hq_home", render=views.render_network_panel,
                              roles=frozenset({"hq_admin"}), order=10))
