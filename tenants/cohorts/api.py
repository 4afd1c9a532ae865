"""`/api/v1/cohorts` on campus sites."""

from __future__ import annotations

from flask import Blueprint, g

from core.api import MAX_PER_PAGE, load_args, load_json
from core.auth.access import roles_required
from core.auth.models import Role
from core.extensions import db
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.cohorts.models import Cohort
from tenants.cohorts.schemas import (
    CohortArgsSchema,
    CohortInputSchema,
    CohortSchema,
    CohortTransitionSchema,
)
from tenants.cohorts.services import (
    cohorts_query,
    create_cohort,
    get_cohort,
    seats_taken_by_cohort,
    transition_cohort,
    update_cohort,
)

bp = Blueprint("cohorts_api", __name__, url_prefix="/api/v1/cohorts")

READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
EDITORS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


def _dump(cohort: Cohort) -> dict:
    return CohortSchema(seats_taken=seats_taken_by_cohort([cohort])).dump(cohort)


@bp.get("")
@documented("Cohorts of this campus (filters: status, from/to on the start date; q: the "
            "course's code or title)",
            query=CohortArgsSchema, response=CohortSchema, paginated=True)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_cohorts():
    args = load_args(CohortArgsSchema())
    statement = cohorts_query(args["status"], args["starts_from"], args["starts_until"],
                              search=args["q"])
    page = db.paginate(statement, page=args["page"], per_page=args["per_page"], error_out=False,
                       max_per_page=MAX_PER_PAGE)
    schema = CohortSchema(seats_taken=seats_taken_by_cohort(page.items))
    return {"items": schema.dump(page.items, many=True), "page": page.page,
            "per_page": page.per_page, "total": page.total}


@bp.post("")
@documented("Schedule a cohort (a draft, priced in the campus's currency)",
            body=CohortInputSchema, response=CohortSchema, status=201,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def create():
    cohort = create_cohort(g.campus, load_json(CohortInputSchema()))
    return _dump(cohort), 201


@bp.get("/<int:cohort_id>")
@documented("One cohort of this campus", response=CohortSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show(cohort_id: int):
    return _dump(get_cohort(cohort_id))


@bp.patch("/<int:cohort_id>")
@documented("Change a draft or open cohort", body=CohortInputSchema, response=CohortSchema,
            errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def update(cohort_id: int):
    cohort = get_cohort(cohort_id)
    data = load_json(CohortInputSchema(), partial=True)
    return _dump(update_cohort(cohort, data))


@bp.post("/<int:cohort_id>/transition")
@documented("Move a cohort to another status (draft → open → running → finished; cancelled)",
            body=CohortTransitionSchema, response=CohortSchema, errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def transition(cohort_id: int):
    cohort = get_cohort(cohort_id)
    data = load_json(CohortTransitionSchema())
    return _dump(transition_cohort(cohort, data["status"]))
