"""Partner agreements (HQ) and the partner invoice runs: see models.py and runs.py.

Registered by billing.init_app: HQ's agreement pages and `/invoice-runs`, the JSON API, their
navigation items and `flask billing invoice-partners`.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind

HQ_ONLY = frozenset({"hq_admin"})


def init_app(app: Flask) -> None:
    from billing import cli as billing_cli
    from billing.agreements import api, cli, views  # noqa: F401 (cli attaches its command)

    app.register_blueprint(views.bp)
    app.register_blueprint(views.runs_bp)
    app.register_blueprint(api.bp)
    billing_cli.register(app)
    register_nav(app, NavItem("agreements.index", _l("Agreements"), frozenset({SiteKind.HQ}),
                              roles=HQ_ONLY, order=55))
    register_nav(app, NavItem("invoice_runs.index", _l("Invoice runs"),
                              frozenset({SiteKind.HQ}), roles=HQ_ONLY, order=56))
