"""Coworking: membership plans, memberships (learners or outside members), coaching sessions."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    from tenants.coworking import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    # Staff see memberships and record coaching sessions; plans (prices) are linked inside.
    register_nav(app, NavItem("coworking.memberships", _l("Coworking"),
                              frozenset({SiteKind.CAMPUS}),
                              roles=frozenset({"hq_admin", "campus_manager", "campus_staff"}),
                              order=60))
