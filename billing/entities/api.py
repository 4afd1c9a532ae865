"""`/api/v1/billing-entities` on `hq.`: who issues invoices and collects payments (HQ only)."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import ValidationError

from billing.entities.schemas import (
    BillingEntityInputSchema,
    BillingEntitySchema,
    all_problems,
)
from billing.entities.services import (
    ensure_campus_entities,
    entities_query,
    entity_rows,
    get_entity,
    update_entity,
)
from core.api import MAX_PER_PAGE, PageArgsSchema, load_args, load_json
from core.auth.access import roles_required
from core.auth.models import Role
from core.extensions import db
from core.openapi import documented
from core.sites import SiteKind, on_sites

bp = Blueprint("entities_api", __name__, url_prefix="/api/v1/billing-entities")

EDITORS = (Role.HQ_ADMIN,)


def dump(entities, many: bool = False):
    """`entities` (one or a page) as JSON, their campuses and locks read in two statements."""
    rows = entity_rows(entities if many else [entities])
    schema = BillingEntitySchema(
        campuses={r.entity.campus_id: r.campus_slug for r in rows if r.campus_slug},
        locked={r.entity.id for r in rows if r.code_locked})
    return schema.dump(entities, many=many)


@bp.get("")
@documented("Billing entities: HQ's, then each campus's (one is created with defaults for a "
            "campus that has none); `q` searches prefix, legal name and campus",
            query=PageArgsSchema, response=BillingEntitySchema, paginated=True)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def list_entities():
    args = load_args(PageArgsSchema())
    ensure_campus_entities()
    page = db.paginate(entities_query(args["q"]), page=args["page"], per_page=args["per_page"],
                       max_per_page=MAX_PER_PAGE, error_out=False)
    return {"items": dump(page.items, many=True), "page": page.page, "per_page": page.per_page,
            "total": page.total}


@bp.get("/<int:entity_id>")
@documented("One billing entity", response=BillingEntitySchema)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def show(entity_id: int):
    return dump(get_entity(entity_id))


@bp.patch("/<int:entity_id>")
@documented("Change a billing entity: VAT number checked for its country (EU: python-stdnum), "
            "IBAN and BIC checked, Stripe refused where Stripe serves no business (409 "
            "`code_locked` when changing the prefix of an entity that has issued an invoice)",
            body=BillingEntityInputSchema, response=BillingEntitySchema,
            errors=(401, 403, 404, 409, 422))
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def update(entity_id: int):
    entity = get_entity(entity_id)
    try:
        data = load_json(BillingEntityInputSchema(), partial=True)
    except ValidationError as error:
        raise ValidationError(all_problems(entity, error)) from error
    return dump(update_entity(entity, data))
