"""Report filters and the JSON shape of HQ's consolidated revenue.

The HTML page and the JSON API load the same filters: months as `YYYY-MM`, campuses and streams
as comma-separated lists (or, from a form, repeated parameters: see `filter_values`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, post_load
from werkzeug.datastructures import MultiDict

from billing.ledger.models import RevenueStream

GROUP_KEYS = ("campus", "month", "stream")  # the only order in which they may be combined
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MIN_YEAR = 1901  # the year before must exist too (the same period last year)
MAX_LIST = 200  # campuses or streams named in one filter
LIST_KEYS = ("campus", "stream")


def months_between(start: date, end: date) -> int:
    """How many calendar months from `start`'s to `end`'s, both included."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def filter_values(args: MultiDict | Mapping[str, Any]) -> dict[str, Any]:
    """The query string as the filter schemas load it: repeated `campus`/`stream` parameters
    (a multi-select) are joined with commas, so both `campus=a&campus=b` and `campus=a,b` work."""
    if isinstance(args, MultiDict):
        values = args.to_dict()
        for key in LIST_KEYS:
            chosen = [v for v in args.getlist(key) if v.strip()]
            if chosen:
                values[key] = ",".join(chosen)
            else:
                values.pop(key, None)
        return values
    return dict(args)


class Month(fields.String):
    """A calendar month as `YYYY-MM` ↔ the `date` of its first day."""

    def _serialize(self, value: date | None, attr: str | None, obj: Any, **kwargs: Any):
        return None if value is None else f"{value.year:04d}-{value.month:02d}"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        match = MONTH_PATTERN.match(value.strip()) if isinstance(value, str) else None
        if match is None or int(match[1]) < MIN_YEAR:
            raise ValidationError(_("A month as YYYY-MM, e.g. 2026-11."))
        return date(int(match[1]), int(match[2]), 1)


class CommaList(fields.String):
    """`a,b,c` → a tuple of distinct non-empty items, in the order given."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        if not isinstance(value, str):
            raise ValidationError(_("A comma-separated list."))
        items = tuple(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))
        if len(items) > MAX_LIST:
            raise ValidationError(_("At most %(n)d items.", n=MAX_LIST))
        return items


class GroupBy(CommaList):
    """Any of `campus`, `month`, `stream`, in that order (`campus,stream`, `month`, …)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        keys = super()._deserialize(value, attr, data, **kwargs)
        unknown = [key for key in keys if key not in GROUP_KEYS]
        if unknown:
            raise ValidationError(_("Unknown grouping %(keys)s; use campus, month and stream.",
                                    keys=", ".join(unknown)))
        if list(keys) != [key for key in GROUP_KEYS if key in keys]:
            raise ValidationError(_("Group in the order campus, month, stream (any of them)."))
        return keys


class StreamList(CommaList):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        names = super()._deserialize(value, attr, data, **kwargs)
        known = {stream.value for stream in RevenueStream}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValidationError(_("Unknown stream %(names)s; choose among %(known)s.",
                                    names=", ".join(unknown),
                                    known=", ".join(s.value for s in RevenueStream)))
        return tuple(RevenueStream(name) for name in names)


class PeriodArgsSchema(Schema):
    """A period of months with optional campus and stream filters.

    Without months, the calendar year of `today` (given by the caller, else the system date).
    """

    start = Month(data_key="from", load_default=None, metadata={
        "description": "first month, YYYY-MM (default: January of this year)",
        "example": "2026-01"})
    end = Month(data_key="to", load_default=None, metadata={
        "description": "last month, included, YYYY-MM (default: December of `from`'s year)",
        "example": "2026-12"})
    campuses = CommaList(data_key="campus", load_default=tuple, metadata={
        "description": "campus slugs, comma-separated (default: every campus)",
        "example": "molenbeek,antwerp"})
    streams = StreamList(data_key="stream", load_default=tuple, metadata={
        "description": "revenue streams, comma-separated (default: every stream): "
                       + ", ".join(s.value for s in RevenueStream),
        "example": "training,coworking"})

    max_months: int | None = None

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or date.today()

    @post_load
    def default_and_check_period(self, data: dict, **_kwargs: Any) -> dict:
        """A missing end is December of the start's year, a missing start January of the end's
        year; neither: the current calendar year."""
        start, end = data["start"], data["end"]
        year = (start or end or self.today).year
        start = data["start"] = start or date((end or self.today).year, 1, 1)
        end = data["end"] = end or date(year, 12, 1)
        if start > end:
            raise ValidationError(_("The period ends before it starts."), "to")
        if self.max_months is not None and months_between(start, end) > self.max_months:
            raise ValidationError(_("Choose a period of at most %(n)d months.",
                                    n=self.max_months), "to")
        return data


class RevenueArgsSchema(PeriodArgsSchema):
    """`GET /api/v1/reports/revenue`: the period, the filters and the grouping."""

    group_by = GroupBy(load_default=lambda: GROUP_KEYS, metadata={
        "description": "any of campus, month, stream, comma-separated, in that order "
                       "(default: all three; empty: one row with the total)",
        "example": "campus,month,stream"})


class RevenuePageArgsSchema(PeriodArgsSchema):
    """The HQ page shows a campus-by-month table: at most three years at a time."""

    max_months = 36


class RevenueRowSchema(Schema):
    """One group; only the keys of the chosen grouping are present."""

    campus = fields.String(metadata={"description": "campus slug", "example": "molenbeek"})
    month = fields.String(metadata={"description": "YYYY-MM", "example": "2026-11"})
    stream = fields.String(metadata={"enum": [s.value for s in RevenueStream]})
    amount_eur_minor = fields.Integer(required=True)


class RevenueReportSchema(Schema):
    currency = fields.String(required=True, metadata={"example": "EUR"})
    rows = fields.List(fields.Nested(RevenueRowSchema), required=True)
    total_eur_minor = fields.Integer(required=True)
