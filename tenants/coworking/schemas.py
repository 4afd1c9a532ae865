"""Coworking input and output: plans, memberships and coaching sessions.

The JSON API and the HTML forms load the same schemas; the form variants differ only where a
browser sends text (a price typed as "99,00", numbers as strings).
"""

from __future__ import annotations

from typing import Any

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
from core.money import to_minor
from tenants.coworking.models import MembershipStatus, PlanKind

# 100 million in major units: far above any plan or ticket, far below BIGINT.
MAX_PRICE_MINOR = 10_000_000_000
MAX_ID = 2**63 - 1


def Id(**kwargs: Any) -> fields.Integer:
    """A row id: a strict positive integer (a JSON float or string is refused)."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class CampusForm:
    """Mixin of form schemas that need the campus's currency or timezone (never user input):
    `MyFormSchema(currency=g.campus.currency, timezone=g.campus.timezone)`."""

    def __init__(self, *args: Any, currency: str = "EUR", timezone: str = "UTC",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency, self.timezone = currency, timezone


def QueryId(**kwargs: Any) -> fields.Integer:
    """A row id in a query string or a form, where every value is text."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class MinorAmount(fields.Field):
    """An amount typed in a form ("99", "99.50", "99,50") → integer minor units of the currency
    of its `CampusForm` schema."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        currency = getattr(self.parent, "currency", "EUR")
        try:
            minor = to_minor(str(value), currency)
        except ValueError as error:
            raise ValidationError(_("Enter an amount such as 12.50 (%(currency)s).",
                                    currency=currency)) from error
        if minor < 0:
            raise ValidationError(_("The price cannot be negative."))
        if minor > MAX_PRICE_MINOR:
            raise ValidationError(_("This amount is too large."))
        return minor


# ---- plans -------------------------------------------------------------------------------------


class MembershipPlanInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.Enum(PlanKind, by_value=True, required=True)
    price_minor = fields.Integer(strict=True, required=True,
                                 validate=validate.Range(min=0, max=MAX_PRICE_MINOR))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("name",))

    @post_load
    def normalise(self, data: dict, **_kwargs: Any) -> dict:
        if "name" in data:
            data["name"] = " ".join(data["name"].split())
        return data


class MembershipPlanFormSchema(CampusForm, MembershipPlanInputSchema):
    """The plan form: the price is typed in major units of the campus currency."""

    price_minor = MinorAmount(required=True, data_key="price")


class MembershipPlanSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(PlanKind, by_value=True)
    price_minor = fields.Integer()
    currency = fields.String()
    is_active = fields.Boolean()
    created_at = fields.DateTime()


class MembershipPlanListArgsSchema(PageArgsSchema):
    active = fields.Boolean(load_default=None, allow_none=True)
    kind = fields.Enum(PlanKind, by_value=True, load_default=None, allow_none=True)


# ---- memberships -------------------------------------------------------------------------------

_MEMBER_TEXT = ("member_name", "member_email")


class MembershipUpdateSchema(Schema):
    """What may change on a membership (its member stays the same)."""

    plan_id = Id(required=True)
    member_name = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(min=1, max=200))
    member_email = fields.Email(load_default=None, allow_none=True,
                                validate=validate.Length(max=254))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, _MEMBER_TEXT, blank_to_none=_MEMBER_TEXT)

    @pre_load
    def blank_dates(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("ends_on") == "":
            return {**data, "ends_on": None}
        return data

    @validates_schema(skip_on_field_errors=False)
    def dates_in_order(self, data: dict, **_kwargs: Any) -> None:
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise ValidationError(_("The end date cannot be before the start date."), "ends_on")

    @post_load
    def normalise(self, data: dict, **_kwargs: Any) -> dict:
        if data.get("member_name"):
            data["member_name"] = " ".join(data["member_name"].split())
        if data.get("member_email"):
            data["member_email"] = data["member_email"].lower()
        return data


class MembershipInputSchema(MembershipUpdateSchema):
    """A new membership: a learner of the campus, or an outside member with name and e-mail."""

    learner_id = Id(load_default=None, allow_none=True)


class MembershipFormSchema(MembershipInputSchema):
    """The membership form: ids arrive as text from <select> elements."""

    plan_id = QueryId(required=True)
    learner_id = QueryId(load_default=None, allow_none=True)

    @pre_load
    def blank_ids(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if k == "learner_id" and v == "" else v) for k, v in data.items()}
        return data


class MembershipEndSchema(Schema):
    ends_on = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def blank(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("ends_on") == "":
            return {**data, "ends_on": None}
        return data


class MembershipSchema(Schema):
    """A membership as the campus's people see it (no price: staff read it too)."""

    id = fields.Integer()
    plan_id = fields.Integer()
    plan_name = fields.Function(lambda m: m.plan.name)
    plan_kind = fields.Function(lambda m: m.plan.kind.value)
    learner_id = fields.Integer(allow_none=True)
    member_name = fields.String()
    member_email = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    status = fields.Enum(MembershipStatus, by_value=True)
    created_at = fields.DateTime()


class MembershipListArgsSchema(PageArgsSchema):
    status = fields.Enum(MembershipStatus, by_value=True, load_default=None, allow_none=True)
    plan_id = QueryId(load_default=None, allow_none=True)


class MembershipListFormArgsSchema(MembershipListArgsSchema):
    """The list page's query string, where "" means no filter."""

    @pre_load
    def blanks(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if k in ("status", "plan_id") and v == "" else v)
                    for k, v in data.items()}
        return data


# ---- coaching sessions -------------------------------------------------------------------------


class CoachingSessionInputSchema(Schema):
    membership_id = Id(required=True)
    coach_id = Id(load_default=None, allow_none=True)
    held_on = fields.Date(required=True)
    duration_minutes = fields.Integer(strict=True, required=True,
                                      validate=validate.Range(min=1, max=480))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("notes",))


class CoachingSessionFormSchema(CoachingSessionInputSchema):
    membership_id = QueryId(required=True)
    coach_id = QueryId(load_default=None, allow_none=True)
    duration_minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=480))

    @pre_load
    def blank_coach(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("coach_id") == "":
            return {**data, "coach_id": None}
        return data


class CoachingSessionSchema(Schema):
    id = fields.Integer()
    membership_id = fields.Integer()
    member_name = fields.Function(lambda s: s.membership.member_name)
    coach_id = fields.Integer()
    coach_name = fields.Function(lambda s: s.coach.full_name)
    held_on = fields.Date()
    duration_minutes = fields.Integer()
    notes = fields.String()
    created_at = fields.DateTime()


class CoachingSessionListArgsSchema(PageArgsSchema):
    membership_id = QueryId(load_default=None, allow_none=True)
    coach_id = QueryId(load_default=None, allow_none=True)
    held_from = fields.Date(load_default=None, allow_none=True, data_key="from")
    held_to = fields.Date(load_default=None, allow_none=True, data_key="to")

    @validates_schema(skip_on_field_errors=False)
    def range_in_order(self, data: dict, **_kwargs: Any) -> None:
        if data.get("held_from") and data.get("held_to") and data["held_to"] < data["held_from"]:
            raise ValidationError(_("“to” cannot be before “from”."), "to")


class CoachingSessionListFormArgsSchema(CoachingSessionListArgsSchema):
    @pre_load
    def blanks(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if v == "" and k != "q" else v) for k, v in data.items()}
        return data
