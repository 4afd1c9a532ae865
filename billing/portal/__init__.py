"""The partner portal on `partners.`: a dashboard (the site's home page, replacing the
placeholder core registers), the partner's agreements, the impact of the programmes it funds,
and their JSON under `/api/v1/partner`. Registered by billing.init_app, after core, so its home
page is the one the portal shows.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.home import register_home
from core.navigation import NavItem, register_nav
from core.sites import SiteKind

PARTNER_ONLY = frozenset({"partner_contact"})


def init_app(app: Flask) -> None:
    from billing.portal import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_home(app, SiteKind.PARTNERS, views.dashboard)
    register_nav(app, NavItem("portal.agreements", _l("Agreements"),
                              frozenset({SiteKind.PARTNERS}), roles=PARTNER_ONLY, order=20))
    register_nav(app, NavItem("portal.impact", _l("Impact"), frozenset({SiteKind.PARTNERS}),
                              roles=PARTNER_ONLY, order=30))
