"""`/api/v1/royalty-rates` on `hq.` (HQ only): the rate grid, campus x stream."""

from __future__ import annotations

from flask import Blueprint

from billing.royalties.schemas import RoyaltyRatesInputSchema, RoyaltyRatesSchema
from billing.royalties.services import rate_grid, set_rates
from core.api import load_json
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites

bp = Blueprint("royalties_api", __name__, url_prefix="/api/v1/royalty-rates")

EDITORS = (Role.HQ_ADMIN,)


@bp.get("")
@documented("Royalty rates (HQ): every campus x revenue stream, in percent (0 where none is "
            "set)", response=RoyaltyRatesSchema)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def show():
    return RoyaltyRatesSchema().dump({"items": rate_grid()})


@bp.put("")
@documented("Set royalty rates (HQ): the cells given (campus slug, stream, rate 0-100 with 2 "
            "decimals at most); the others keep theirs. All or nothing.",
            body=RoyaltyRatesInputSchema, response=RoyaltyRatesSchema, errors=(401, 403, 422))
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def update():
    set_rates(load_json(RoyaltyRatesInputSchema())["rates"])
    return RoyaltyRatesSchema().dump({"items": rate_grid()})
