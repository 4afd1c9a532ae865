"""`/api/v1/agreements` on `hq.` (HQ only): partner agreements, in and out by slug."""

from __future__ import annotations

from flask import Blueprint

from billing.agreements.schemas import AgreementArgsSchema, AgreementInputSchema, AgreementSchema
from billing.agreements.services import (
    agreements_query,
    create_agreement,
    get_agreement,
    update_agreement,
)
from core.api import load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites

bp = Blueprint("agreements_api", __name__, url_prefix="/api/v1/agreements")

EDITORS = (Role.HQ_ADMIN,)
WRITE_ERRORS = (401, 403, 404, 409, 422)


@bp.get("")
@documented("Partner agreements (HQ): search `q` in title and partner name, filter by partner "
            "slug and by running today (`active`)", query=AgreementArgsSchema,
            response=AgreementSchema, paginated=True)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def list_agreements():
    args = load_args(AgreementArgsSchema())
    statement = agreements_query(args["q"], args["partner"], args["active"])
    return paginated(statement, AgreementSchema(), args["page"], args["per_page"])


@bp.post("")
@documented("Make a partner agreement (HQ): partner, optional track, campuses (all in the "
            "agreement's currency), period, terms in minor units, targets",
            body=AgreementInputSchema, response=AgreementSchema, status=201,
            errors=(401, 403, 422))
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def create():
    agreement = create_agreement(load_json(AgreementInputSchema()))
    return AgreementSchema().dump(agreement), 201


@bp.get("/<int:agreement_id>")
@documented("One partner agreement (HQ)", response=AgreementSchema)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def show(agreement_id: int):
    return AgreementSchema().dump(get_agreement(agreement_id))


@bp.patch("/<int:agreement_id>")
@documented("Change an agreement (HQ): new terms apply to months not yet invoiced; issued "
            "invoices keep theirs. Partner and currency are fixed once it has invoices (409 "
            "`agreement_invoiced`)", body=AgreementInputSchema, response=AgreementSchema,
            errors=WRITE_ERRORS)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def update(agreement_id: int):
    agreement = get_agreement(agreement_id)
    data = load_json(AgreementInputSchema(), partial=True)
    return AgreementSchema().dump(update_agreement(agreement, data))
