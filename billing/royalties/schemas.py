"""Royalty rates in and out (HQ), and the filters of the statements list."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from billing.ledger.models import RevenueStream
from core.api import PageArgsSchema

STREAMS = tuple(stream.value for stream in RevenueStream)
MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                        error=_l("Give a month as YYYY-MM, e.g. 2026-11."))


def valid_rate(value: Decimal) -> None:
    """A percentage from 0 to 100 with at most 2 decimals (no rounding of what was typed)."""
    if not Decimal(0) <= value <= Decimal(100):
        raise ValidationError(_("Between 0 and 100 (percent)."))
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError(_("At most 2 decimals, e.g. 4.75."))


class RateField(fields.Decimal):
    """A percentage as a JSON number or string ("4.75"; "4,75" from a form); no booleans."""

    default_error_messages = {"invalid": _l("A percentage such as 4.75.")}

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Decimal:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str):
            value = value.strip().replace(",", ".").removesuffix("%").strip()
        return super()._deserialize(value, attr, data, **kwargs)


class RoyaltyRateSchema(Schema):
    """One cell of the grid: a campus (slug), a stream, its rate in percent."""

    campus = fields.String(required=True, validate=validate.Length(min=1, max=40))
    stream = fields.String(required=True, validate=validate.OneOf(
        STREAMS, error=_l("Choose one of: {choices}.")))
    rate = RateField(required=True, as_string=True, validate=valid_rate,
                     metadata={"description": "Percent of the month's revenue, 0 to 100, "
                                              "2 decimals at most"})


class RoyaltyRatesInputSchema(Schema):
    """Rates to set; cells not named keep theirs."""

    rates = fields.List(fields.Nested(RoyaltyRateSchema), required=True,
                        validate=validate.Length(min=1, max=5000))


class RoyaltyRatesSchema(Schema):
    """Every campus x stream, a missing rate shown as 0."""

    items = fields.List(fields.Nested(RoyaltyRateSchema))


class StatementArgsSchema(PageArgsSchema):
    """Filters of HQ's statements list."""

    month = fields.String(load_default=None, allow_none=True, validate=MONTH)
    campus = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=40))

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {k: v for k, v in data.items()
                if not (k in ("month", "campus") and isinstance(v, str) and not v.strip())}


class RunMonthSchema(Schema):
    month = fields.String(required=True, validate=MONTH)
