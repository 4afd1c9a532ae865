"""Invoices: see models.py. Registered by billing.init_app.

The pages and the JSON API live on campus sites (the manager and HQ; staff see no money), on
`hq.` (every campus's invoices and the royalty statements) and on `partners.` (the signed-in
partner's own invoices). Importing the package arms the ORM guard that keeps issued invoices
unchanged (guards.py).
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from billing.invoices import guards  # noqa: F401  (issued invoices are immutable in the ORM)
from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    from billing.invoices import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("invoices.index", _l("Invoices"), frozenset({SiteKind.CAMPUS}),
                              roles=frozenset({"hq_admin", "campus_manager"}), order=85))
    register_nav(app, NavItem("invoices.index", _l("Invoices"), frozenset({SiteKind.HQ}),
                              roles=frozenset({"hq_admin"}), order=75))
    register_nav(app, NavItem("invoices.index", _l("Invoices"),
                              frozenset({SiteKind.PARTNERS}),
                              roles=frozenset({"partner_contact"}), order=20))
