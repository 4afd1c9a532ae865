"""`/api/v1/reports/impact` and `/api/v1/impact-targets` on `hq.` (HQ only; counts only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from marshmallow import ValidationError

from billing.impact.schemas import (
    SCOPE,
    ImpactArgsSchema,
    ImpactReportSchema,
    ImpactTargetInputSchema,
    ImpactTargetSchema,
)
from billing.impact.services import (
    campus_slugs,
    create_target,
    get_target,
    impact_report,
    resolve_slugs,
    targets_query,
    update_target,
)
from core.api import MAX_PER_PAGE, PageArgsSchema, load_args, load_json
from core.auth.access import roles_required
from core.auth.models import Role
from core.errors import InvalidInput
from core.extensions import db
from core.openapi import documented
from core.sites import SiteKind, on_sites

bp = Blueprint("impact_api", __name__, url_prefix="/api/v1")

READERS = EDITORS = (Role.HQ_ADMIN,)
WRITE_ERRORS = (401, 403, 404, 422)


def load_report_args(values: dict[str, Any]) -> dict[str, Any]:
    """`values` loaded by ImpactArgsSchema; raises ValidationError (422) naming every bad field,
    unknown slugs included, even when another field is malformed."""
    schema = ImpactArgsSchema()
    try:
        return schema.load(values, unknown="exclude")
    except ValidationError as error:
        messages = dict(error.messages) if isinstance(error.messages, dict) else {}
        slugs = {k: v for k, v in (error.valid_data or {}).items() if k in SCOPE and v}
        try:
            resolve_slugs(**slugs)
        except InvalidInput as unknown:
            messages.update(unknown.fields)
        raise ValidationError(messages) from error


@bp.get("/reports/impact")
@documented("Impact funnel of the network (HQ): applied, admitted, completed, fully certified, "
            "positive outcome, per campus, track, cohort or partner, with matching targets. "
            "Counts only.", query=ImpactArgsSchema, response=ImpactReportSchema)
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def report():
    args = load_report_args(request.args.to_dict())
    return ImpactReportSchema().dump(impact_report(**args))


@bp.get("/impact-targets")
@documented("Impact targets (HQ); `q` finds a part of the label", query=PageArgsSchema,
            response=ImpactTargetSchema, paginated=True)
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def list_targets():
    args = load_args(PageArgsSchema())
    page = db.paginate(targets_query(args["q"]), page=args["page"], per_page=args["per_page"],
                       max_per_page=MAX_PER_PAGE, error_out=False)
    schema = ImpactTargetSchema(campuses=campus_slugs(page.items))
    return {"items": schema.dump(page.items, many=True), "page": page.page,
            "per_page": page.per_page, "total": page.total}


@bp.post("/impact-targets")
@documented("Set an impact target (HQ): partner, track and campus slugs, each optional",
            body=ImpactTargetInputSchema, response=ImpactTargetSchema, status=201,
            errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def create():
    target = create_target(load_json(ImpactTargetInputSchema()))
    return ImpactTargetSchema(campuses=campus_slugs([target])).dump(target), 201


@bp.get("/impact-targets/<int:target_id>")
@documented("One impact target (HQ)", response=ImpactTargetSchema)
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def show(target_id: int):
    target = get_target(target_id)
    return ImpactTargetSchema(campuses=campus_slugs([target])).dump(target)


@bp.patch("/impact-targets/<int:target_id>")
@documented("Change an impact target (HQ); a scope set to null means any",
            body=ImpactTargetInputSchema, response=ImpactTargetSchema, errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def update(target_id: int):
    target = get_target(target_id)
    target = update_target(target, load_json(ImpactTargetInputSchema(), partial=True))
    return ImpactTargetSchema(campuses=campus_slugs([target])).dump(target)
