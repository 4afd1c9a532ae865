"""Events of a campus: registrations within capacity, check-in on the day, public pages."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    from tenants.events import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("events.index", _l("Events"), frozenset({SiteKind.CAMPUS}),
                              roles=frozenset({"hq_admin", "campus_manager", "campus_staff"}),
                              order=70))
