"""Royalties: HQ's rates per campus and revenue stream, and the monthly statements (invoices
from HQ to each campus) computed from the ledger. See runs.py.

Registered by billing.init_app: `/royalties` (HQ: every campus's statements and the run button;
a campus site: its own statements), `/royalties/rates` (HQ), the JSON API, navigation and
`flask billing royalties`.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    from billing import cli as billing_cli
    from billing.royalties import api, cli, views  # noqa: F401 (cli attaches its command)

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    billing_cli.register(app)
    register_nav(app, NavItem("royalties.index", _l("Royalties"),
                              frozenset({SiteKind.HQ, SiteKind.CAMPUS}),
                              roles=frozenset({"hq_admin", "campus_manager"}), order=85))
    register_nav(app, NavItem("royalties.rates", _l("Royalty rates"), frozenset({SiteKind.HQ}),
                              roles=frozenset({"hq_admin"}), order=86))
