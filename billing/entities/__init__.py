"""Billing entities: who issues invoices and collects payments (see models.py).

Registered by billing.init_app: HQ's list and edit form (`/billing/entities`), the JSON API
(`/api/v1/billing-entities`), and a campus's own details, read-only (`/billing`).
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    from billing.entities import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("entities.index", _l("Billing entities"), frozenset({SiteKind.HQ}),
                              roles=frozenset({"hq_admin"}), order=58))
    register_nav(app, NavItem("entities.campus_details", _l("Billing details"),
                              frozenset({SiteKind.CAMPUS}),
                              roles=frozenset({"hq_admin", "campus_manager"}), order=88))
