"""`/api/v1/enrollments` on campus sites: list, read, attendance, complete, drop."""

from __future__ import annotations

from flask import Blueprint, request

from core.api import load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.enrolments.schemas import (
    AttendanceInputSchema,
    CompleteInputSchema,
    DroppedEnrolmentSchema,
    EnrolmentArgsSchema,
    EnrolmentSchema,
)
from tenants.enrolments.services import (
    complete,
    drop,
    enrolments_query,
    get_enrolment,
    record_attendance,
)

bp = Blueprint("enrolments_api", __name__, url_prefix="/api/v1/enrollments")

# Staff (coaches) read enrolments and record attendance; managers and HQ complete and drop.
READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
ATTENDANCE_TAKERS = READERS
EDITORS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


@bp.get("")
@documented("Enrolments of this campus, filtered by cohort, status or learner",
            query=EnrolmentArgsSchema, response=EnrolmentSchema, paginated=True,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_enrolments():
    args = load_args(EnrolmentArgsSchema())
    statement = enrolments_query(args["cohort_id"], args["status"], args["learner_id"],
                                 args["q"])
    return paginated(statement, EnrolmentSchema(), args["page"], args["per_page"])


@bp.get("/<int:enrolment_id>")
@documented("One enrolment of this campus", response=EnrolmentSchema,
            errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show(enrolment_id: int):
    return EnrolmentSchema().dump(get_enrolment(enrolment_id))


@bp.patch("/<int:enrolment_id>")
@documented("Record attendance (percentage of sessions attended, 0-100)",
            body=AttendanceInputSchema, response=EnrolmentSchema, partial=False)
@on_sites(SiteKind.CAMPUS)
@roles_required(*ATTENDANCE_TAKERS)
def update(enrolment_id: int):
    enrolment = get_enrolment(enrolment_id)
    data = load_json(AttendanceInputSchema())
    return EnrolmentSchema().dump(record_attendance(enrolment, data["attendance_percent"]))


@bp.post("/<int:enrolment_id>/complete")
@documented("Complete an enrolment (enrolled → completed); `completed_on` defaults to today",
            body=CompleteInputSchema, response=EnrolmentSchema,
            errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def complete_enrolment(enrolment_id: int):
    enrolment = get_enrolment(enrolment_id)
    # The body is optional ("complete today"); a body that is sent must be a valid JSON object.
    data = load_json(CompleteInputSchema()) if request.get_data() else {"completed_on": None}
    return EnrolmentSchema().dump(complete(enrolment, data["completed_on"]))


@bp.post("/<int:enrolment_id>/drop")
@documented("Drop an enrolment (enrolled → dropped); the freed seat goes to the first waitlisted "
            "applicant", response=DroppedEnrolmentSchema, errors=(401, 403, 404, 409))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def drop_enrolment(enrolment_id: int):
    result = drop(get_enrolment(enrolment_id))
    body = DroppedEnrolmentSchema().dump(result.enrolment)
    body["seat_offered_to_application_id"] = (
        result.seat_offered_to.id if result.seat_offered_to is not None else None)
    return body
