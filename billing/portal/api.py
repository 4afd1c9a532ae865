"""`/api/v1/partner/...` on `partners.`: the signed-in partner's agreements and impact.

Partner contacts only (a bearer token from `POST /api/v1/auth/token` on `partners.`); every read
is narrowed to `current_user.partner_id`, so another partner's agreement is a 404. The invoices
JSON (`/api/v1/invoices`) belongs to the invoices feature.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from billing.portal.schemas import PartnerAgreementSchema, PartnerImpactSchema
from billing.portal.services import (
    agreement_views,
    agreements_query,
    get_agreement,
    partner_impact,
)
from core.api import MAX_PER_PAGE, PageArgsSchema, load_args
from core.auth.access import roles_required
from core.auth.models import Role
from core.extensions import db
from core.openapi import documented
from core.sites import SiteKind, on_sites

bp = Blueprint("portal_api", __name__, url_prefix="/api/v1/partner")

READERS = (Role.PARTNER_CONTACT,)


@bp.get("/agreements")
@documented("The signed-in partner's agreements, newest first, each with the funnel of the "
            "cohorts it covers and its progress against its targets (counts only)",
            query=PageArgsSchema, response=PartnerAgreementSchema, paginated=True)
@on_sites(SiteKind.PARTNERS)
@roles_required(*READERS)
def list_agreements():
    args = load_args(PageArgsSchema())
    partner_id = current_user.partner_id
    page = db.paginate(agreements_query(partner_id, args["q"]), page=args["page"],
                       per_page=args["per_page"], max_per_page=MAX_PER_PAGE, error_out=False)
    return {"items": PartnerAgreementSchema().dump(agreement_views(partner_id, page.items),
                                                   many=True),
            "page": page.page, "per_page": page.per_page, "total": page.total}


@bp.get("/agreements/<int:agreement_id>")
@documented("One of the signed-in partner's agreements (another partner's is a 404)",
            response=PartnerAgreementSchema)
@on_sites(SiteKind.PARTNERS)
@roles_required(*READERS)
def show_agreement(agreement_id: int):
    partner_id = current_user.partner_id
    [view] = agreement_views(partner_id, [get_agreement(partner_id, agreement_id)])
    return PartnerAgreementSchema().dump(view)


@bp.get("/impact")
@documented("Impact of the programmes the signed-in partner funds (the cohorts it sponsors): "
            "applied, admitted, completed, fully certified, positive outcome, in total, per "
            "campus and per track, with the partner's targets. Counts only",
            response=PartnerImpactSchema)
@on_sites(SiteKind.PARTNERS)
@roles_required(*READERS)
def impact():
    return PartnerImpactSchema().dump(partner_impact(current_user.partner_id))
