"""Home pages: the public list of campuses, HQ's network page, and a campus's own home."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template
from flask_login import current_user

from core.auth.access import roles_required
from core.auth.models import Role
from core.home import register_home
from core.panels import render_panels
from core.sites import SiteKind
from tenants.campuses.dashboard import (
    campus_dashboard,
    open_cohorts_for_public,
    upcoming_public_events,
)
from tenants.campuses.services import list_campuses
from tenants.cohorts.services import status_label

CAMPUS_PEOPLE = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)


def public_home():
    return render_template("public/home.html", campuses=list_campuses())


@roles_required(Role.HQ_ADMIN)
def hq_home():
    return render_template("hq/home.html", campuses=list_campuses())


def campus_home():
    """The public page for visitors; the dashboard for the campus's people (and HQ)."""
    if not current_user.is_authenticated:
        return render_template("campus/public.html", campus=g.campus,
                               cohorts=open_cohorts_for_public(),
                               events=upcoming_public_events())
    panels = render_panels(current_app, "campus_dashboard", current_user.role.value)
    return render_template("campus/dashboard.html", campus=g.campus, panels=panels,
                           dashboard=campus_dashboard(g.campus), status_label=status_label)


def init_app(app: Flask) -> None:
    register_home(app, SiteKind.PUBLIC, public_home)
    register_home(app, SiteKind.HQ, hq_home)
    register_home(app, SiteKind.CAMPUS, campus_home)
