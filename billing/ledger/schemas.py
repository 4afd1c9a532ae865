"""Revenue ledger input and output, shared by the campus's revenue pages and the JSON API.

The API takes `amount_minor` as a JSON integer; the HTML form takes an amount typed in the
campus's currency ("120", "120.50", "120,50"). Both refuse a zero amount and a date in the future
(at the campus: the schema is given the campus's today, never read from user input).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from billing.ledger.models import EntrySource, RevenueStream
from core.api import PageArgsSchema, strip_strings
from core.money import to_minor

# Ten billion in major units: far above any real entry, far below BIGINT once summed in rollups.
MAX_AMOUNT_MINOR = 10**12
MEMO_MAX = 500
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def rate_text(rate: Decimal) -> str:
    """An FX rate as a plain decimal string without trailing zeros ("10.85", "1")."""
    return format(Decimal(rate).normalize(), "f")


def _not_zero(value: int) -> None:
    if value == 0:
        raise ValidationError(_("Not zero: a correction of an entry is its reversal."))


def _memo_given(value: str) -> None:
    if not value.strip():
        raise ValidationError(_("Say why this entry is made."))


class WholeMinorUnits(fields.Integer):
    """A JSON integer of minor units: a float, a string or a boolean is refused (no rounding)."""

    default_error_messages = {
        "invalid": "A whole number of minor units, e.g. 12000 for 120.00.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class TypedAmount(fields.Field):
    """An amount typed in a form in major units of the schema's `currency` → minor units."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        currency = getattr(self.parent, "currency", "EUR")
        try:
            return to_minor(str(value), currency)
        except ValueError as error:
            raise ValidationError(_("Enter an amount such as 120.50 (%(currency)s); negative "
                                    "for money paid back.", currency=currency)) from error


class _EntryInputBase(Schema):
    occurred_on = fields.Date(required=True, metadata={
        "description": "The day the revenue was earned; not after today at the campus."})
    stream = fields.Enum(RevenueStream, by_value=True, required=True)
    memo = fields.String(required=True, validate=[_memo_given, validate.Length(max=MEMO_MAX)],
                         metadata={"description": "Why this entry is made by hand."})

    def __init__(self, *args: Any, today: date | None = None, currency: str = "EUR",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today, self.currency = today, currency

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("occurred_on", "stream", "memo", "amount"),
                             ("occurred_on", "stream", "amount"))

    @validates("occurred_on")
    def _not_in_future(self, value: date, **_kwargs: Any) -> None:
        if self.today is not None and value > self.today:
            raise ValidationError(_("The date cannot be in the future."))

    @post_load
    def normalise(self, data: dict, **_kwargs: Any) -> dict:
        if "memo" in data:
            data["memo"] = " ".join(data["memo"].split())
        return data


class RevenueEntryInputSchema(_EntryInputBase):
    """A manual entry sent to the API; the currency is the campus's."""

    amount_minor = WholeMinorUnits(
        required=True,
        validate=[validate.Range(min=-MAX_AMOUNT_MINOR, max=MAX_AMOUNT_MINOR), _not_zero],
        metadata={"description": "Signed, in minor units of the campus's currency; not zero."})


class RevenueEntryFormSchema(_EntryInputBase):
    """The manual entry form: the amount is typed in the campus's currency."""

    amount_minor = TypedAmount(
        required=True, data_key="amount",
        validate=[validate.Range(min=-MAX_AMOUNT_MINOR, max=MAX_AMOUNT_MINOR,
                                 error="This amount is too large."), _not_zero])


class ReversalInputSchema(Schema):
    memo = fields.String(load_default="", validate=validate.Length(max=MEMO_MAX),
                         metadata={"description": "Why; defaults to “Reversal of entry N”."})

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("memo",))

    @post_load
    def normalise(self, data: dict, **_kwargs: Any) -> dict:
        data["memo"] = " ".join((data.get("memo") or "").split())
        return data


class RevenueEntrySchema(Schema):
    """A ledger entry as the campus's manager and HQ see it.

    `reversed` is read from the set of reversed ids given to the schema (one query per page).
    """

    id = fields.Integer()
    occurred_on = fields.Date()
    stream = fields.Enum(RevenueStream, by_value=True)
    amount_minor = fields.Integer()
    currency = fields.String()
    amount_eur_minor = fields.Integer()
    fx_rate = fields.Function(lambda entry: rate_text(entry.fx_rate), metadata={
        "type": "string", "description": "Units of the currency per euro on the entry's day, "
                                         "as a decimal string (e.g. \"10.85\")."})
    source = fields.Enum(EntrySource, by_value=True)
    source_key = fields.String()
    memo = fields.String()
    reverses_id = fields.Integer(allow_none=True)
    reversed = fields.Method("is_reversed", metadata={"type": "boolean"})
    created_by = fields.Integer(attribute="created_by_id", allow_none=True)
    created_at = fields.DateTime()

    def __init__(self, *args: Any, reversed_ids: frozenset[int] | set[int] = frozenset(),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reversed_ids = reversed_ids

    def is_reversed(self, entry: Any) -> bool:
        return entry.id in self.reversed_ids


class RevenueArgsSchema(PageArgsSchema):
    """Filters of the entry list: a date range (inclusive) and a stream."""

    class Meta:
        exclude = ("q",)

    from_ = fields.Date(data_key="from", load_default=None, allow_none=True,
                        metadata={"description": "First day, YYYY-MM-DD (inclusive)."})
    to = fields.Date(load_default=None, allow_none=True,
                     metadata={"description": "Last day, YYYY-MM-DD (inclusive)."})
    stream = fields.Enum(RevenueStream, by_value=True, load_default=None, allow_none=True)

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("from", "to", "stream"), ("from", "to", "stream"))

    @validates_schema
    def _ordered(self, data: dict, **_kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start and end and start > end:
            raise ValidationError(_("`from` must be on or before `to`."), field_name="to")


class YearArgsSchema(Schema):
    year = fields.Integer(load_default=None, allow_none=True,
                          validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("year",), ("year",))


class EntryPageArgsSchema(YearArgsSchema):
    """The drill-down: one month (`YYYY-MM`) or one year, and a stream; all optional."""

    month = fields.String(load_default=None, allow_none=True,
                          validate=validate.Regexp(MONTH_PATTERN, error="Use YYYY-MM."))
    stream = fields.Enum(RevenueStream, by_value=True, load_default=None, allow_none=True)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("year", "month", "stream", "page"),
                             ("year", "month", "stream", "page"))

    @post_load
    def month_start(self, data: dict, **_kwargs: Any) -> dict:
        if data.get("month"):
            year, month = (int(part) for part in data["month"].split("-"))
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValidationError({"month": [_("Use YYYY-MM.")]})
            data["month"] = date(year, month, 1)
        if data.get("page") is None:
            data["page"] = 1
        return data
