"""Enrolment pages for a campus's people: the filtered list with attendance, complete and drop.

The row forms post to the action URL with the list's filters in the query string, so a failed
action re-renders the same list (errors on the row, what was typed kept) and a successful one
redirects back to it.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.errors import AppError
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites
from tenants.enrolments.api import ATTENDANCE_TAKERS, EDITORS, READERS
from tenants.enrolments.models import EnrolmentStatus
from tenants.enrolments.schemas import (
    AttendanceInputSchema,
    CompleteInputSchema,
    EnrolmentArgsSchema,
)
from tenants.enrolments.services import (
    campus_today,
    cohorts_for_filter,
    complete,
    drop,
    enrolments_query,
    get_enrolment,
    record_attendance,
)
from tenants.learners.models import Learner

bp = Blueprint("enrolments", __name__, url_prefix="/enrolments")

FILTERS = ("q", "cohort_id", "status", "learner_id", "page")
PER_PAGE = 25


def status_label(status: EnrolmentStatus) -> str:
    return {EnrolmentStatus.ENROLLED: _("Enrolled"), EnrolmentStatus.COMPLETED: _("Completed"),
            EnrolmentStatus.DROPPED: _("Dropped")}[status]


def _percent(value: int | None):
    return None if value is None else value / 100


COLUMNS = (
    Column(_l("Learner"), lambda e: e.learner.full_name),
    Column(_l("E-mail"), lambda e: e.learner.email),
    Column(_l("Code"), lambda e: e.cohort.course.code),
    Column(_l("Course"), lambda e: e.cohort.course.title(str(get_locale() or "en"))),
    Column(_l("Cohort starts"), lambda e: e.cohort.starts_on, "date"),
    Column(_l("Status"), lambda e: status_label(e.status)),
    Column(_l("Attendance"), lambda e: _percent(e.attendance_percent), "percent"),
    Column(_l("Enrolled"), lambda e: e.enrolled_at, "datetime"),
    Column(_l("Completed on"), lambda e: e.completed_on, "date"),
    Column(_l("Dropped"), lambda e: e.dropped_at, "datetime"),
)


def _filter_args() -> dict[str, str]:
    """The list's filters as they came in the query string (kept across actions)."""
    return {key: request.args[key] for key in FILTERS if request.args.get(key)}


def _render_index(status: int = 200, row: dict | None = None, message: str | None = None):
    """The list page; `row` carries the errors and typed values of one failed row action."""
    raw = _filter_args()
    try:
        args = EnrolmentArgsSchema().load(raw)
        filter_errors: dict = {}
    except ValidationError as error:
        args = {"q": "", "cohort_id": None, "status": None, "learner_id": None, "page": 1,
                **error.valid_data}
        filter_errors = error.messages
        status = max(status, 422)
    pagination = db.paginate(
        enrolments_query(args["cohort_id"], args["status"], args["learner_id"], args["q"]),
        page=args["page"], per_page=PER_PAGE, max_per_page=MAX_PER_PAGE, error_out=False)
    learner = (db.session.get(Learner, (g.campus.id, args["learner_id"]))
               if args["learner_id"] else None)
    return render_template(
        "enrolments/index.html", pagination=pagination, filters=raw, args=args,
        list_filters={key: value for key, value in raw.items() if key != "page"},
        filter_errors=filter_errors, cohorts=cohorts_for_filter(), learner=learner,
        statuses=list(EnrolmentStatus), row=row or {}, message=message,
        today=campus_today(), editors=[role.value for role in EDITORS],
    ), status


@bp.get("")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def index():
    if fmt := requested_format():  # invalid filters: 422, never every enrolment
        args = EnrolmentArgsSchema().load(_filter_args())
        statement = enrolments_query(args["cohort_id"], args["status"], args["learner_id"],
                                     args["q"])
        return table_response(fmt, f"enrolments-{g.campus.slug}", COLUMNS, stream(statement))
    return _render_index()


def _form_data() -> dict:
    data = request.form.to_dict()
    data.pop("csrf_token", None)
    return data


def _act(enrolment_id: int, form: str, schema, action, success):
    """Parse the row form with `schema`, run `action(enrolment, data)`, flash `success(name)`
    and go back to the list.

    On bad input or a refused transition, nothing is saved and the list is shown again with the
    error on the row and the typed values kept.
    """
    enrolment = get_enrolment(enrolment_id)
    values = _form_data()
    name = enrolment.learner.full_name
    try:
        data = schema().load(values) if schema else {}
        action(enrolment, data)
    except ValidationError as error:
        row = {"id": enrolment_id, "form": form, "errors": error.messages, "values": values}
        return _render_index(422, row, _("Nothing was saved for %(name)s: please correct the "
                                         "marked field.", name=name))
    except AppError as error:
        db.session.rollback()
        row = {"id": enrolment_id, "form": form, "errors": error.fields, "values": values}
        return _render_index(error.status, row, error.message)
    flash(success(name), "success")
    return redirect(url_for("enrolments.index", **_filter_args()))


@bp.post("/<int:enrolment_id>/attendance")
@on_sites(SiteKind.CAMPUS)
@roles_required(*ATTENDANCE_TAKERS)
def attendance(enrolment_id: int):
    return _act(enrolment_id, "attendance", AttendanceInputSchema,
                lambda enrolment, data: record_attendance(enrolment, data["attendance_percent"]),
                lambda name: _("Attendance of %(name)s saved.", name=name))


@bp.post("/<int:enrolment_id>/complete")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def complete_enrolment(enrolment_id: int):
    return _act(enrolment_id, "complete", CompleteInputSchema,
                lambda enrolment, data: complete(enrolment, data["completed_on"]),
                lambda name: _("%(name)s completed the course.", name=name))


@bp.post("/<int:enrolment_id>/drop")
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def drop_enrolment(enrolment_id: int):
    offered: list = []

    def run(enrolment, _data):
        offered.append(drop(enrolment).seat_offered_to)

    response = _act(enrolment_id, "drop", None, run,
                    lambda name: _("%(name)s was dropped from the cohort.", name=name))
    if offered and offered[0] is not None:
        flash(_("The freed seat was offered to %(name)s, first on the waiting list.",
                name=offered[0].full_name), "success")
    return response
