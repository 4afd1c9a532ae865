"""Enrolments: a learner in a cohort, from admission to completion or drop-out."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    """Register the enrolment pages, the `/api/v1/enrollments` API and the "Enrolments" link."""
    from tenants.enrolments import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("enrolments.index", _l("Enrolments"), frozenset({SiteKind.CAMPUS}),
                              roles=frozenset({role.value for role in api.READERS}), order=40))
