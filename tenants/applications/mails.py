"""E-mails to applicants (core.mail): their application received, their admission.

Queued by the services (tenants/applications/services.py) and sent once the transaction
commits. Both are written in the language of the page the application was made on (recorded on
the application), else in the campus's default language.
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


def page_language() -> str | None:
    """The locale of the page being answered (None outside a request: the CLI, the seed)."""
    locale = get_locale() if has_request_context() else None
    return str(locale) if locale is not None else None


def application_received(application: Application, cohort: Cohort) -> None:
    """Tell the applicant their application arrived, in the language they applied in."""
    language = _language(application)
    send(application.email, "application_received", language,
         **_context(application, cohort, language))


def application_admitted(application: Application, cohort: Cohort) -> None:
    """Tell the applicant they are admitted (by a manager, or from the waitlist), in the
    language they applied in."""
    language = _language(application)
    send(application.email, "application_admitted", language,
         **_context(application, cohort, language))


def _language(application: Application) -> str:
    if application.language:
        return application.language
    campus = db.session.get(Campus, application.campus_id)
    return campus.default_locale if campus is not None else "en"
