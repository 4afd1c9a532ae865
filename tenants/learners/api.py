"""`/api/v1/learners` on campus sites."""

from __future__ import annotations

from flask import Blueprint, jsonify

from core.api import PageArgsSchema, load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.learners.privacy import ensure_not_erased, erase_learner, personal_data
from tenants.learners.schemas import (
    ErasureSchema,
    LearnerInputSchema,
    LearnerSchema,
    PersonalDataSchema,
)
from tenants.learners.services import create_learner, get_learner, learners_query, update_learner

bp = Blueprint("learners_api", __name__, url_prefix="/api/v1/learners")

READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
EDITORS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)
# Exporting and erasing a person's data: the campus's manager (and HQ), never staff.
PRIVACY_OFFICERS = EDITORS


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
    ensure_not_erased(learner)
    data = load_json(LearnerInputSchema(), partial=True)
    return LearnerSchema().dump(update_learner(learner, data))


@bp.get("/<int:learner_id>/export")
@documented("Everything this campus holds about a learner (GDPR access and portability)",
            response=PersonalDataSchema, errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*PRIVACY_OFFICERS)
def export(learner_id: int):
    response = jsonify(PersonalDataSchema().dump(personal_data(get_learner(learner_id))))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:learner_id>/erase")
@documented("Erase a learner's personal data: anonymise the person, keep every figure; "
            "erasing an erased learner again changes nothing (200)",
            response=ErasureSchema, errors=(401, 403, 404))
@on_sites(SiteKind.CAMPUS)
@roles_required(*PRIVACY_OFFICERS)
def erase(learner_id: int):
    return ErasureSchema().dump(erase_learner(get_learner(learner_id)))
