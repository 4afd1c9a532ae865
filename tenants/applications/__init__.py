"""Applications to a cohort, on motivation alone. Registered by tenants.init_app."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind

CAMPUS_PEOPLE = frozenset({"hq_admin", "campus_manager", "campus_staff"})


def init_app(app: Flask) -> None:
    """Register the public apply pages, the pipeline pages, the API and the "Applications" link."""
    from tenants.applications import api, views

    app.register_blueprint(views.public_bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("applications.index", _l("Applications"),
                              frozenset({SiteKind.CAMPUS}), roles=CAMPUS_PEOPLE, order=40))
