"""Application pages.

Public (campus sites, no sign-in): the cohorts open for applications and the application form,
on motivation alone. For the campus's team: the pipeline (overall or per cohort) and each
application with its decision, notes and withdrawal.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.errors import AppError, NotFound
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites, public
from tenants.applications.api import EDITORS, READERS, throttled_submission
from tenants.applications.models import Application, ApplicationStatus
from tenants.applications.schemas import ApplicationInputSchema, DecisionSchema, NotesSchema
from tenants.applications.services import (
    ACTIVE,
    DECIDABLE,
    DECISIONS,
    applications_query,
    apply,
    cohort_open_for_applications,
    decide,
    get_application,
    status_counts,
    update_notes,
    withdraw,
)
from tenants.cohorts.models import CohortStatus
from tenants.cohorts.services import (
    cohorts_query,
    get_cohort,
    open_cohorts_query,
    seats_taken_by_cohort,
)
from tenants.cohorts.views import helpers as cohort_helpers
from tenants.cohorts.views import locale_code

bp = Blueprint("applications", __name__, url_prefix="/applications")
public_bp = Blueprint("apply", __name__, url_prefix="/apply")

PER_PAGE = 25


def application_status_label(status: ApplicationStatus) -> str:
    return {
        ApplicationStatus.SUBMITTED: _("Submitted"),
        ApplicationStatus.INTERVIEW: _("Interview"),
        ApplicationStatus.ADMITTED: _("Admitted"),
        ApplicationStatus.WAITLISTED: _("Waitlisted"),
        ApplicationStatus.REJECTED: _("Rejected"),
        ApplicationStatus.WITHDRAWN: _("Withdrawn"),
    }[status]


def decision_label(decision: str) -> str:
    return {"interview": _("Invite to an interview"), "admit": _("Admit"),
            "waitlist": _("Put on the waitlist"), "reject": _("Reject")}[decision]


COLUMNS = (
    Column(_l("Applicant"), lambda a: a.full_name),
    Column(_l("E-mail"), lambda a: a.email),
    Column(_l("Phone"), lambda a: a.phone),
    Column(_l("Course"), lambda a: a.cohort.course.title(locale_code())),
    Column(_l("Cohort starts"), lambda a: a.cohort.starts_on, "date"),
    Column(_l("Submitted"), lambda a: a.submitted_at, "datetime"),
    Column(_l("Score"), lambda a: a.score, "number"),
    Column(_l("Status"), lambda a: application_status_label(a.status)),
    Column(_l("Decided"), lambda a: a.decided_at, "datetime"),
)


def _helpers() -> dict[str, Any]:
    return {**cohort_helpers(), "application_status_label": application_status_label,
            "decision_label": decision_label, "application_statuses": list(ApplicationStatus)}


def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


# --- the public pages -------------------------------------------------------------------------


@public_bp.get("")
@on_sites(SiteKind.CAMPUS)
@public
def open_cohorts():
    cohorts = list(db.session.scalars(open_cohorts_query()).unique())
    return render_template("applications/apply_list.html", cohorts=cohorts,
                           taken=seats_taken_by_cohort(cohorts), **_helpers())


def _apply_form(cohort, values: dict, errors: dict, message: str | None = None,
                status: int = 200):
    seats_left = max(cohort.seats - seats_taken_by_cohort([cohort])[cohort.id], 0)
    return render_template("applications/apply_form.html", cohort=cohort, values=values,
                           errors=errors, message=message, seats_left=seats_left,
                           **_helpers()), status


@public_bp.route("/<int:cohort_id>", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@public
@throttled_submission
def form(cohort_id: int):
    cohort = cohort_open_for_applications(cohort_id)
    if request.method == "GET":
        return _apply_form(cohort, {}, {})
    values = _form_values()
    values["consent"] = "consent" in request.form
    try:
        apply(cohort, ApplicationInputSchema().load(values))
    except ValidationError as error:
        return _apply_form(cohort, values, error.messages, status=422)
    except AppError as error:
        db.session.rollback()
        return _apply_form(get_cohort(cohort_id), values, error.fields, error.message,
                           error.status)
    flash(_("We received your application. The campus team will contact you by e-mail."),
          "success")
    return redirect(url_for("apply.received", cohort_id=cohort_id))


@public_bp.get("/<int:cohort_id>/received")
@on_sites(SiteKind.CAMPUS)
@public
def received(cohort_id: int):
    cohort = get_cohort(cohort_id)
    if cohort.status is CohortStatus.DRAFT:  # never applied to: not public yet
        raise NotFound(_("No such cohort."))
    return render_template("applications/apply_received.html", cohort=cohort, **_helpers())


# --- the campus team's pages ------------------------------------------------------------------


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def index():
    fmt = requested_format()
    raw_status = request.args.get("status", "")
    status = (ApplicationStatus(raw_status)
              if raw_status in ApplicationStatus._value2member_map_ else None)
    cohort_id = request.args.get("cohort_id", type=int)
    cohort = get_cohort(cohort_id) if cohort_id is not None else None
    search = request.args.get("q", "")[:200].strip()
    statement = applications_query(status, cohort_id, search)
    if fmt:
        return table_response(fmt, f"applications-{g.campus.slug}", COLUMNS, stream(statement))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(statement, page=page, per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    cohorts = list(db.session.scalars(cohorts_query()).unique())
    return render_template("applications/index.html", pagination=pagination, status=status,
                           cohort=cohort, cohorts=cohorts, counts=status_counts(cohort_id),
                           search=search, **_helpers())


def _detail(application: Application, errors: dict | None = None, values: dict | None = None,
            message: str | None = None, status: int = 200):
    decisions = [d for d, target in DECISIONS.items() if application.status in DECIDABLE[target]]
    return render_template(
        "applications/show.html", application=application, decisions=decisions,
        withdrawable=application.status in ACTIVE, errors=errors or {}, values=values or {},
        message=message, **_helpers()), status


@bp.get("/<int:application_id>")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show(application_id: int):
    return _detail(get_application(application_id))


def _act(application_id: int, action, success: str):
    """Run `action(application, values)`; on failure re-render the page with the errors."""
    application = get_application(application_id)
    values = _form_values()
    try:
        action(application, values)
    except ValidationError as error:
        db.session.rollback()
        return _detail(get_application(application_id), error.messages, values,
                       _("Please correct the fields marked below."), 422)
    except AppError as error:
        db.session.rollback()
        return _detail(get_application(application_id), error.fields, values, error.message,
                       error.status)
    flash(success, "success")
    return redirect(url_for("applications.show", application_id=application_id))


@bp.post("/<int:application_id>/decision")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def decision(application_id: int):
    def act(application: Application, values: dict) -> None:
        data = DecisionSchema().load(values)
        decide(application, data["decision"], data["reason"], current_user)

    return _act(application_id, act, _("Decision recorded."))


@bp.post("/<int:application_id>/notes")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def notes(application_id: int):
    def act(application: Application, values: dict) -> None:
        data = NotesSchema().load({"notes": values.get("notes", ""),
                                   "score": values.get("score", "")})
        update_notes(application, data["notes"], data["score"])

    return _act(application_id, act, _("Notes saved."))


@bp.post("/<int:application_id>/withdraw")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def withdrawal(application_id: int):
    promoted: list[Application] = []

    def act(application: Application, _values: dict) -> None:
        admitted = withdraw(application)
        if admitted is not None:
            promoted.append(admitted)

    response = _act(application_id, act, _("The application is withdrawn."))
    if promoted:
        flash(_("The freed seat went to %(name)s, first on the waitlist.",
                name=promoted[0].full_name), "success")
    return response
