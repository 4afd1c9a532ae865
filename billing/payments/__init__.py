"""Payments: orders for course fees, coworking memberships, event tickets and partner invoices,
paid by card through Stripe or recorded by hand (cash, transfer), refunded in full; the payer's
signed payment link; the Stripe webhook on the apex domain. Registered by billing.init_app.
"""

from flask import Flask, g, render_template
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.panels import Panel, register_panel
from core.sites import SiteKind

MONEY_ROLE_VALUES = frozenset({"hq_admin", "campus_manager"})


def render_orders_panel() -> str:
    """Open orders of the request's campus: how many and how much is waiting (one query)."""
    from billing.payments.services import open_totals

    return render_template("payments/_panel.html", totals=open_totals(),
                           currency=g.campus.currency)


def init_app(app: Flask) -> None:
    from billing.payments import api, views, webhooks
    from billing.payments.privacy import ORDERS_SOURCE
    from tenants.learners.privacy import register_personal_data_source

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    register_nav(app, NavItem("payments.orders", _l("Orders"), frozenset({SiteKind.CAMPUS}),
                              roles=MONEY_ROLE_VALUES, order=85))
    register_panel(app, Panel(page="campus_dashboard", render=render_orders_panel,
                              roles=MONEY_ROLE_VALUES, order=20))
    register_personal_data_source(app, ORDERS_SOURCE)  # a learner's orders in their export
