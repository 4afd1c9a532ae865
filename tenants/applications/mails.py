"""E-mails to applicants (core.mail): their application received, their admission.

Queued by the services (tenants/applications/services.py) and sent once the transaction
commits. The application is received in the language of the page it was made on; the admission
is written in the campus's default language (an application does not record the language it
was made in).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context
from flask_babel import get_locale

from core.extensions import db
from core.mail import send
from core.sites import site_url
from tenants.applications.models import Application
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort


def _context(application: Application, cohort: Cohort, language: str) -> dict[str, Any]:
    campus = db.session.get(Campus, application.campus_id)
    config = current_app.config
    return {"application": application, "cohort": cohort, "campus": campus,
            "course_title": cohort.course.title(language),
            "campus_url": site_url(config["CAMPUSFLOW_DOMAIN"], campus.slug, "/apply",
                                   config["PREFERRED_URL_SCHEME"])}


def application_received(application: Application, cohort: Cohort) -> None:
    """Tell the applicant their application arrived, in the language they applied in."""
    locale = get_locale() if has_request_context() else None
    language = str(locale) if locale is not None else _campus_language(application)
    send(application.email, "application_received", language,
         **_context(application, cohort, language))


def application_admitted(application: Application, cohort: Cohort) -> None:
    """Tell the applicant they are admitted (by a manager, or from the waitlist)."""
    language = _campus_language(application)
    send(application.email, "application_admitted", language,
         **_context(application, cohort, language))


def _campus_language(application: Application) -> str:
    campus = db.session.get(Campus, application.campus_id)
    return campus.default_locale if campus is not None else "en"
