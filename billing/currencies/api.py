"""`/api/v1/fx-rates` on the HQ site: list and enter exchange rates."""

from __future__ import annotations

from flask import Blueprint

from billing.currencies.schemas import FxRateArgsSchema, FxRateInputSchema, FxRateSchema
from billing.currencies.services import rates_query, set_rate
from core.api import load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites

bp = Blueprint("fx_api", __name__, url_prefix="/api/v1/fx-rates")

EDITORS = (Role.HQ_ADMIN,)


@bp.get("")
@documented("Exchange rates (units of a currency per euro), newest day first; `currency` "
            "filters; `q` finds a part of the currency or of the day (`2026-11`)",
            query=FxRateArgsSchema, response=FxRateSchema, paginated=True)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def list_rates():
    args = load_args(FxRateArgsSchema())
    return paginated(rates_query(args["currency"] or None, args["q"]), FxRateSchema(),
                     args["page"], args["per_page"])


@bp.post("")
@documented("Enter (or correct) the rate of a currency on a day; send `rate` as a string to "
            "keep every decimal", body=FxRateInputSchema, response=FxRateSchema, status=201)
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def create_rate():
    data = load_json(FxRateInputSchema())
    return FxRateSchema().dump(set_rate(data["day"], data["currency"], data["rate"])), 201
