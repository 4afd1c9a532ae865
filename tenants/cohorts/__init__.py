"""Cohorts: one run of a catalogue course at a campus. Registered by tenants.init_app."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind

CAMPUS_PEOPLE = frozenset({"hq_admin", "campus_manager", "campus_staff"})


def init_app(app: Flask) -> None:
    """Register the cohort pages, the `/api/v1/cohorts` endpoints and the "Cohorts" link."""
    from tenants.cohorts import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("cohorts.index", _l("Cohorts"), frozenset({SiteKind.CAMPUS}),
                              roles=CAMPUS_PEOPLE, order=30))
