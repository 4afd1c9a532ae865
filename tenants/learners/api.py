"""`/api/v1/learners` on campus sites."""

from __future__ import annotations

from flask import Blueprint

from core.api import PageArgsSchema, load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.learners.schemas import LearnerInputSchema, LearnerSchema
from tenants.learners.services import create_learner, get_learner, learners_query, update_learner

bp = Blueprint("learners_api", __name__, url_prefix="/api/v1/learners")

READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
EDITORS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


@bp.get("")
@documented("Learners of this campus", query=PageArgsSchema, response=LearnerSchema,
            paginated=True)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_learners():
    args = load_args(PageArgsSchema())
    return paginated(learners_query(args["q"]), LearnerSchema(), args["page"], args["per_page"])


@bp.post("")
@documented("Register a learner", body=LearnerInputSchema, response=LearnerSchema, status=201,
            errors=(401, 403, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def create():
    learner = create_learner(load_json(LearnerInputSchema()))
    return LearnerSchema().dump(learner), 201


@bp.get("/<int:learner_id>")
@documented("One learner of this campus", response=LearnerSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show(learner_id: int):
    return LearnerSchema().dump(get_learner(learner_id))


@bp.patch("/<int:learner_id>")
@documented("Change a learner", body=LearnerInputSchema, response=LearnerSchema,
            errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*EDITORS)
def update(learner_id: int):
    learner = get_learner(learner_id)
    data = load_json(LearnerInputSchema(), partial=True)
    return LearnerSchema().dump(update_learner(learner, data))
