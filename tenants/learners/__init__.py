"""Learners: the people a campus trains."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    from tenants.learners import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("learners.index", _l("Learners"), frozenset({SiteKind.CAMPUS}),
                              order=20))
