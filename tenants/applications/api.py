"""`/api/v1/applications` and the public `POST /api/v1/cohorts/<id>/applications`."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user

from core.api import load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.extensions import client_address, limiter
from core.openapi import documented
from core.sites import SiteKind, on_sites, public
from tenants.applications.schemas import (
    ApplicationArgsSchema,
    ApplicationInputSchema,
    ApplicationReceiptSchema,
    ApplicationSchema,
    DecisionSchema,
    NotesSchema,
)
from tenants.applications.services import (
    applications_query,
    apply,
    cohort_open_for_applications,
    decide,
    get_application,
    update_notes,
    withdraw,
)

bp = Blueprint("applications_api", __name__, url_prefix="/api/v1")

READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
EDITORS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


def _submission_limit() -> str:
    return current_app.config["APPLICATION_RATE_LIMIT"]


def _counts_against_limit(response) -> bool:
    # A submission naming no cohort of this campus stores nothing, so it does not use up the
    # visitor's allowance; every other submission does, accepted or not.
    return response.status_code != 404


# One allowance per address for the public form and the public API together.
throttled_submission = limiter.shared_limit(
    _submission_limit, scope="application-submission", key_func=client_address,
    methods=["POST"], deduct_when=_counts_against_limit)


@bp.post("/cohorts/<int:cohort_id>/applications")
@documented("Apply to a cohort open for applications (public, no sign-in, throttled)",
            body=ApplicationInputSchema, response=ApplicationReceiptSchema, status=201,
            errors=(404, 409, 422, 429))
@on_sites(SiteKind.CAMPUS)
@public
@throttled_submission
def submit(cohort_id: int):
    cohort = cohort_open_for_applications(cohort_id)
    application = apply(cohort, load_json(ApplicationInputSchema()))
    return ApplicationReceiptSchema().dump(application), 201


@bp.get("/applications")
@documented("Applications of this campus (filters: status, cohort_id; q: name, e-mail or phone)",
            query=ApplicationArgsSchema, response=ApplicationSchema, paginated=True)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_applications():
    args = load_args(ApplicationArgsSchema())
    return paginated(applications_query(args["status"], args["cohort_id"], args["q"]),
                     ApplicationSchema(), args["page"], args["per_page"])


@bp.get("/applications/<int:application_id>")
@documented("One application", response=ApplicationSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show(application_id: int):
    return ApplicationSchema().dump(get_application(application_id))


@bp.patch("/applications/<int:application_id>")
@documented("Change the team's notes and score (0 to 100)", body=NotesSchema,
            response=ApplicationSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def update(application_id: int):
    application = get_application(application_id)
    data = load_json(NotesSchema(), partial=True)
    return ApplicationSchema().dump(update_notes(application, **data))


@bp.post("/applications/<int:application_id>/decision")
@documented("Decide: interview, admit, waitlist or reject (with a reason); a full cohort is a "
            "409 `cohort_full`", body=DecisionSchema, response=ApplicationSchema,
            errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def decision(application_id: int):
    application = get_application(application_id)
    data = load_json(DecisionSchema())
    return ApplicationSchema().dump(decide(application, data["decision"], data["reason"],
                                           current_user))


@bp.post("/applications/<int:application_id>/withdraw")
@documented("Withdraw an application; an admitted one frees its seat for the waitlist",
            response=ApplicationSchema, errors=(401, 403, 404, 409))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def withdrawal(application_id: int):
    application = get_application(application_id)
    withdraw(application)
    return ApplicationSchema().dump(application)
