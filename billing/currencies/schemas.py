"""FX rate input and output, shared by HQ's page and the JSON API."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, pre_load, validate

from core.api import PageArgsSchema

CURRENCY = validate.Regexp(r"^[A-Za-z]{3}$", error=_l("A currency as an ISO 4217 code, e.g. MAD."))
# Far above any real rate, far below what Numeric(18, 8) can hold.
RATE_RANGE = validate.Range(min=0, min_inclusive=False, max=10**9,
                            error=_l("A positive number with at most 8 decimals."))


def _strip(data: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(data, dict):
        return data
    return {k: (v.strip() if k in keys and isinstance(v, str) else v) for k, v in data.items()}


class FxRateInputSchema(Schema):
    """A rate: units of `currency` per euro on `day`. A number or a string for `rate` (a string
    keeps every decimal exactly)."""

    day = fields.Date(required=True)
    currency = fields.String(required=True, validate=CURRENCY)
    rate = fields.Decimal(required=True, allow_nan=False, validate=RATE_RANGE)

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        data = _strip(data, ("day", "currency", "rate"))
        if isinstance(data, dict) and isinstance(data.get("rate"), str):
            data["rate"] = data["rate"].replace(",", ".")  # "10,85" typed in a French form
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data["currency"] = data["currency"].upper()
        return data


class FxRateSchema(Schema):
    id = fields.Integer()
    day = fields.Date()
    currency = fields.String()
    rate = fields.Decimal(as_string=True, metadata={"description": "units of currency per EUR"})
    created_at = fields.DateTime()


class FxRateArgsSchema(PageArgsSchema):
    currency = fields.String(load_default="", validate=validate.Regexp(
        r"^([A-Za-z]{3})?$", error=_l("A currency as an ISO 4217 code, e.g. MAD.")))
