"""Cohort input and output, shared by the HTML pages and the JSON API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from core.api import PageArgsSchema
from tenants.cohorts.models import Cohort, CohortStatus, Funding

# Teaching languages of a cohort: the catalogue's languages and Arabic (Casablanca).
COHORT_LANGUAGES = ("en", "fr", "nl", "it", "ar")
MAX_SEATS = 10_000
MAX_PRICE_MINOR = 10**10
# A larger id names no row, and must not reach SQL (BIGINT).
ID_RANGE = validate.Range(min=1, max=2**63 - 1, error=_l("No such record."))


def _blank_to_none(data: Any, keys: tuple[str, ...]) -> Any:
    """Empty form fields (`""`) become None, so "no sponsor" is not an invalid integer."""
    if not isinstance(data, Mapping):
        return data
    return {k: (None if k in keys and isinstance(v, str) and not v.strip() else v)
            for k, v in data.items()}


class ChosenId(fields.Integer):
    """An id picked from a list: a missing or malformed one is told as `choose`, translated."""

    def __init__(self, choose: Any, **kwargs) -> None:
        super().__init__(**kwargs)
        self.choose = choose

    def make_error(self, key: str, **kwargs) -> ValidationError:
        if key in ("required", "null", "invalid"):
            return ValidationError(str(self.choose))
        return super().make_error(key, **kwargs)


class CohortInputSchema(Schema):
    """A cohort as a manager creates or changes it; the currency is always the campus's."""

    course_id = ChosenId(_l("Choose a course."), required=True, validate=ID_RANGE)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    schedule = fields.String(load_default="", validate=validate.Length(max=200))
    seats = fields.Integer(required=True, validate=validate.Range(
        min=1, max=MAX_SEATS, error=_l("Offer between {min} and {max} seats.")))
    language = fields.String(required=True, validate=validate.OneOf(
        COHORT_LANGUAGES, error=_l("Choose one of: {choices}.")))
    price_minor = fields.Integer(load_default=0, validate=validate.Range(
        min=0, max=MAX_PRICE_MINOR, error=_l("The price cannot be negative.")))
    funding = fields.Enum(Funding, by_value=True, load_default=Funding.FREE)
    sponsor_id = fields.Integer(load_default=None, allow_none=True, validate=ID_RANGE)

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        return _blank_to_none(data, ("sponsor_id", "course_id"))

    @validates_schema(skip_on_field_errors=False)
    def dates_in_order(self, data: dict, **_kwargs) -> None:
        # Also checked by the service against stored dates (a PATCH may send only one).
        if "starts_on" in data and "ends_on" in data and data["ends_on"] < data["starts_on"]:
            raise ValidationError(_("The end date cannot be before the start date."), "ends_on")


class CohortTransitionSchema(Schema):
    status = fields.Enum(CohortStatus, by_value=True, required=True)


class CohortArgsSchema(PageArgsSchema):
    """Filters of the cohort list: status, and a window on the start date (inclusive)."""

    status = fields.Enum(CohortStatus, by_value=True, load_default=None)
    starts_from = fields.Date(data_key="from", load_default=None)
    starts_until = fields.Date(data_key="to", load_default=None)


class CourseBriefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.Method("localised_title", metadata={"type": "string"})

    def localised_title(self, course) -> str:
        return course.title(str(get_locale() or "en"))


class CohortSchema(Schema):
    """A cohort as the campus's people see it.

    `seats_taken` maps cohort ids to their count of enrolments that are not dropped; the caller
    computes it for the whole page in one query (services.seats_taken_by_cohort).
    """

    id = fields.Integer()
    course = fields.Nested(CourseBriefSchema)
    starts_on = fields.Date()
    ends_on = fields.Date()
    schedule = fields.String()
    seats = fields.Integer()
    seats_taken = fields.Method("taken", metadata={"type": "integer"})
    language = fields.String()
    price_minor = fields.Integer()
    currency = fields.String()
    funding = fields.Enum(Funding, by_value=True)
    sponsor_id = fields.Integer(allow_none=True)
    status = fields.Enum(CohortStatus, by_value=True)

    def __init__(self, *args, seats_taken: Mapping[int, int] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._seats_taken = seats_taken or {}

    def taken(self, cohort: Cohort) -> int:
        return self._seats_taken[cohort.id]
