"""`/api/v1/certification-awards` and `/api/v1/outcomes` on campus sites."""

from __future__ import annotations

from flask import Blueprint

from core.api import load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.records.schemas import (
    AwardArgsSchema,
    AwardInputSchema,
    AwardSchema,
    OutcomeArgsSchema,
    OutcomeInputSchema,
    OutcomeSchema,
    OutcomeUpdateSchema,
)
from tenants.records.services import (
    award_certification,
    awards_query,
    get_award,
    get_outcome,
    outcomes_query,
    record_outcome,
    revoke_award,
    update_outcome,
)

bp = Blueprint("records_api", __name__, url_prefix="/api/v1")

# Everyone at the campus reads the record; managers and HQ write it.
READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
EDITORS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


@bp.get("/certification-awards")
@documented("Certifications earned by learners of this campus", query=AwardArgsSchema,
            response=AwardSchema, paginated=True, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_awards():
    args = load_args(AwardArgsSchema())
    statement = awards_query(args["learner_id"], args["certification_id"], args["q"])
    return paginated(statement, AwardSchema(), args["page"], args["per_page"])


@bp.post("/certification-awards")
@documented("Record a certification earned by a learner of this campus", body=AwardInputSchema,
            response=AwardSchema, status=201, errors=(401, 403, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def create_award():
    data = load_json(AwardInputSchema())
    award = award_certification(data["learner_id"], data["certification_id"],
                                data["awarded_on"], data["credential_url"])
    return AwardSchema().dump(award), 201


@bp.get("/certification-awards/<int:award_id>")
@documented("One certification award of this campus", response=AwardSchema,
            errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show_award(award_id: int):
    return AwardSchema().dump(get_award(award_id))


@bp.delete("/certification-awards/<int:award_id>")
@documented("Revoke a certification award", status=204, errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def delete_award(award_id: int):
    revoke_award(get_award(award_id))
    return "", 204


@bp.get("/outcomes")
@documented("Outcomes on the path to work of learners of this campus", query=OutcomeArgsSchema,
            response=OutcomeSchema, paginated=True, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_outcomes():
    args = load_args(OutcomeArgsSchema())
    statement = outcomes_query(args["learner_id"], args["kind"], args["q"])
    return paginated(statement, OutcomeSchema(), args["page"], args["per_page"])


@bp.post("/outcomes")
@documented("Record an outcome (employed, internship, started a business, further education)",
            body=OutcomeInputSchema, response=OutcomeSchema, status=201,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def create_outcome():
    data = load_json(OutcomeInputSchema())
    outcome = record_outcome(data["learner_id"], data["kind"], data["employer"], data["sector"],
                             data["occurred_on"], data["notes"])
    return OutcomeSchema().dump(outcome), 201


@bp.get("/outcomes/<int:outcome_id>")
@documented("One outcome of this campus", response=OutcomeSchema,
            errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show_outcome(outcome_id: int):
    return OutcomeSchema().dump(get_outcome(outcome_id))


@bp.patch("/outcomes/<int:outcome_id>")
@documented("Correct an outcome (any of its facts; not its learner)", body=OutcomeUpdateSchema,
            response=OutcomeSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def update(outcome_id: int):
    outcome = get_outcome(outcome_id)
    data = load_json(OutcomeUpdateSchema(), partial=True)
    return OutcomeSchema().dump(update_outcome(outcome, data))
