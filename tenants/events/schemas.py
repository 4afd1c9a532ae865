"""Event and registration input and output, shared by the HTML pages and the JSON API.

The API takes timezone-aware ISO datetimes; the form takes a local date and time at the campus
(its timezone, given to the form schema) and turns them into the same UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from core.api import PageArgsSchema, strip_strings
from tenants.coworking.schemas import MAX_PRICE_MINOR, CampusForm, MinorAmount
from tenants.events.models import EventStatus, RegistrationStatus

MAX_CAPACITY = 100_000
_TEXT = ("title", "description")


def _collapse(text: str) -> str:
    return " ".join(text.split())


class EventInputSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    capacity = fields.Integer(strict=True, required=True,
                              validate=validate.Range(min=1, max=MAX_CAPACITY))
    price_minor = fields.Integer(strict=True, load_default=0,
                                 validate=validate.Range(min=0, max=MAX_PRICE_MINOR))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, _TEXT)

    @validates_schema(skip_on_field_errors=False)
    def times_in_order(self, data: dict, **_kwargs: Any) -> None:
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            raise ValidationError(_("The event must end after it starts."), "ends_at")

    @post_load
    def normalise(self, data: dict, **_kwargs: Any) -> dict:
        for key in ("starts_at", "ends_at"):
            if data.get(key) is not None:
                data[key] = data[key].astimezone(UTC)
        if "title" in data:
            data["title"] = _collapse(data["title"])
        return data


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall-clock date and time at the campus → the UTC instant."""
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone).astimezone(UTC)


class EventFormSchema(CampusForm, Schema):
    """The event form: local date and times at the campus (its `timezone`), a typed price."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    starts_on = fields.Date(required=True)
    starts_time = fields.Time(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)  # empty: the same day
    ends_time = fields.Time(required=True)
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_CAPACITY))
    price_minor = MinorAmount(required=True, data_key="price")

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        data = strip_strings(data, _TEXT)
        if isinstance(data, dict) and data.get("ends_on") == "":
            data = {**data, "ends_on": None}
        return data

    def _instants(self, data: dict) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.timezone)
        starts_at = local_to_utc(data["starts_on"], data["starts_time"], zone)
        ends_at = local_to_utc(data.get("ends_on") or data["starts_on"], data["ends_time"], zone)
        return starts_at, ends_at

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def times_in_order(self, data: dict, original: Any, **_kwargs: Any) -> None:
        if not all(data.get(key) for key in ("starts_on", "starts_time", "ends_time")):
            return
        if isinstance(original, dict) and original.get("ends_on") and not data.get("ends_on"):
            return  # the end date itself is wrong: that error says it
        starts_at, ends_at = self._instants(data)
        if ends_at <= starts_at:
            raise ValidationError(_("The event must end after it starts."), "ends_time")

    @post_load
    def to_instants(self, data: dict, **_kwargs: Any) -> dict:
        starts_at, ends_at = self._instants(data)
        return {"title": _collapse(data["title"]), "description": data.get("description", ""),
                "starts_at": starts_at, "ends_at": ends_at, "capacity": data["capacity"],
                "price_minor": data["price_minor"]}


class EventSchema(Schema):
    """An event as the campus's people see it, with how many places are taken."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    capacity = fields.Integer()
    registered_count = fields.Integer()
    places_left = fields.Function(lambda e: max(e.capacity - e.registered_count, 0))
    price_minor = fields.Integer()
    currency = fields.String()
    status = fields.Enum(EventStatus, by_value=True)
    created_at = fields.AwareDateTime()


class EventListArgsSchema(PageArgsSchema):
    """Filters: status, and `from`/`to` days (inclusive, at the campus) on the start."""

    status = fields.Enum(EventStatus, by_value=True, load_default=None, allow_none=True)
    starts_from = fields.Date(load_default=None, allow_none=True, data_key="from")
    starts_to = fields.Date(load_default=None, allow_none=True, data_key="to")

    @validates_schema(skip_on_field_errors=False)
    def range_in_order(self, data: dict, **_kwargs: Any) -> None:
        if data.get("starts_from") and data.get("starts_to") and \
                data["starts_to"] < data["starts_from"]:
            raise ValidationError(_("“to” cannot be before “from”."), "to")


class EventListFormArgsSchema(EventListArgsSchema):
    @pre_load
    def blanks(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if v == "" and k != "q" else v) for k, v in data.items()}
        return data


class EventRegistrationInputSchema(Schema):
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("full_name", "email"))

    @post_load
    def normalise(self, data: dict, **_kwargs: Any) -> dict:
        data["full_name"] = _collapse(data["full_name"])
        data["email"] = data["email"].lower()
        return data


class EventRegistrationReceiptSchema(Schema):
    """What a public registration answers: no personal data echoed back."""

    id = fields.Integer()
    status = fields.Enum(RegistrationStatus, by_value=True)


class EventRegistrationSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    full_name = fields.String()
    email = fields.String()
    status = fields.Enum(RegistrationStatus, by_value=True)
    registered_at = fields.AwareDateTime()
    checked_in_at = fields.AwareDateTime(allow_none=True)


class EventRegistrationListArgsSchema(PageArgsSchema):
    status = fields.Enum(RegistrationStatus, by_value=True, load_default=None, allow_none=True)
    checked_in = fields.Boolean(load_default=None, allow_none=True)


class EventRegistrationListFormArgsSchema(EventRegistrationListArgsSchema):
    @pre_load
    def blanks(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if v == "" and k != "q" else v) for k, v in data.items()}
        return data
