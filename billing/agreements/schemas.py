"""Agreement input and output (HQ), list filters, and the month of an invoice run.

Partner, track and campuses are slugs, in and out. The API takes amounts as integers of minor
units (`fixed_fee_minor`); the HTML form takes amounts typed in the agreement's currency
("12000", "12 000,00").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from billing.ledger.schemas import MAX_AMOUNT_MINOR, WholeMinorUnits
from core.api import PageArgsSchema
from core.money import to_minor

SLUG = validate.Length(min=1, max=40)
MAX_TARGET = 10_000_000
MAX_INSTALMENTS = 120
AMOUNT_RANGE = validate.Range(min=0, max=MAX_AMOUNT_MINOR,
                              error=_l("Enter an amount between 0 and {max} minor units."))
TARGET_RANGE = validate.Range(min=0, max=MAX_TARGET,
                              error=_l("Enter a whole number between {min} and {max}."))
AMOUNTS = ("fixed_fee", "per_admitted", "per_completion", "per_certified")
OPTIONAL = ("track", "trained_target", "certified_target")


def _cleaned(data: Any, amounts: tuple[str, ...] = ()) -> Any:
    """Trim text; an empty optional field means none, an empty amount means 0."""
    if not isinstance(data, Mapping):
        return data
    cleaned = dict(data)
    for key, value in data.items():
        if not isinstance(value, str):
            continue
        value = " ".join(value.split())
        if key in OPTIONAL and not value:
            value = None
        elif key in amounts and not value:
            value = "0"
        elif key == "currency":
            value = value.upper()
        cleaned[key] = value
    return cleaned


class _AgreementFields(Schema):
    title = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Name the agreement in at most {max} characters.")),
        metadata={"description": "e.g. Cloud skills programme"})
    partner = fields.String(required=True, validate=SLUG,
                            metadata={"description": "The sponsoring partner's slug"})
    track = fields.String(load_default=None, allow_none=True, validate=SLUG,
                          metadata={"description": "Track slug; null: cohorts of any track"})
    campuses = fields.List(fields.String(validate=SLUG), required=True,
                           validate=validate.Length(min=1, error=_l("Choose at least one campus.")),
                           metadata={"description": "Campus slugs; each must use `currency`"})
    currency = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z]{3}$", error=_l("An ISO 4217 code such as EUR.")))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    instalments = fields.Integer(load_default=1, validate=validate.Range(
        min=1, max=MAX_INSTALMENTS, error=_l("Between {min} and {max} monthly instalments.")),
        metadata={"description": "Monthly instalments of the fixed fee, from the first month"})
    trained_target = fields.Integer(load_default=None, allow_none=True, validate=TARGET_RANGE)
    certified_target = fields.Integer(load_default=None, allow_none=True, validate=TARGET_RANGE)

    @validates_schema(skip_on_field_errors=False)
    def dates_in_order(self, data: dict, **_kwargs) -> None:
        # Also checked by the service against the stored dates (a PATCH may send only one).
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise ValidationError(_("The end date cannot be before the start date."), "ends_on")


class AgreementInputSchema(_AgreementFields):
    """An agreement as the API takes it: amounts in minor units of `currency`."""

    fixed_fee_minor = WholeMinorUnits(load_default=0, validate=AMOUNT_RANGE, metadata={
        "description": "Fixed fee PER CAMPUS, in minor units, paid in `instalments`"})
    per_admitted_minor = WholeMinorUnits(load_default=0, validate=AMOUNT_RANGE, metadata={
        "description": "Per learner admitted in the month"})
    per_completion_minor = WholeMinorUnits(load_default=0, validate=AMOUNT_RANGE, metadata={
        "description": "Per completion in the month"})
    per_certified_minor = WholeMinorUnits(load_default=0, validate=AMOUNT_RANGE, metadata={
        "description": "Per learner who became fully certified in the month"})

    @pre_load
    def clean(self, data: Any, **_kwargs) -> Any:
        return _cleaned(data)


class AgreementFormSchema(_AgreementFields):
    """The HQ form: amounts typed in major units of the chosen currency."""

    fixed_fee = fields.String(load_default="0")
    per_admitted = fields.String(load_default="0")
    per_completion = fields.String(load_default="0")
    per_certified = fields.String(load_default="0")

    @pre_load
    def clean(self, data: Any, **_kwargs) -> Any:
        return _cleaned(data, AMOUNTS)

    @post_load
    def to_minor_units(self, data: dict, **_kwargs) -> dict:
        errors: dict[str, list[str]] = {}
        currency = data["currency"]
        for name in AMOUNTS:
            try:
                amount = to_minor(data.pop(name), currency)
            except ValueError:
                errors[name] = [_("Enter an amount such as 1500.00 (%(currency)s).",
                                  currency=currency)]
                continue
            if not 0 <= amount <= MAX_AMOUNT_MINOR:
                errors[name] = [_("Enter an amount of at least 0.")]
            data[f"{name}_minor"] = amount
        if errors:
            raise ValidationError(errors)
        return data


class AgreementSchema(Schema):
    """An agreement as HQ reads it."""

    id = fields.Integer()
    title = fields.String()
    partner = fields.Function(lambda a: a.partner.slug, metadata={"type": "string"})
    partner_name = fields.Function(lambda a: a.partner.name, metadata={"type": "string"})
    track = fields.Function(lambda a: a.track.slug if a.track else None,
                            metadata={"type": "string", "nullable": True})
    campuses = fields.Function(lambda a: [c.slug for c in a.campuses],
                               metadata={"type": "array", "items": {"type": "string"}})
    currency = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    fixed_fee_minor = fields.Integer()
    instalments = fields.Integer()
    per_admitted_minor = fields.Integer()
    per_completion_minor = fields.Integer()
    per_certified_minor = fields.Integer()
    trained_target = fields.Integer(allow_none=True)
    certified_target = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class AgreementArgsSchema(PageArgsSchema):
    """List filters: a search text (`q`), a partner slug, running today or not."""

    partner = fields.String(load_default=None, allow_none=True, validate=SLUG)
    active = fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "true: running today; false: not started or ended"})

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {k: v for k, v in data.items()
                if not (k in ("partner", "active") and isinstance(v, str) and not v.strip())}


class RunMonthSchema(Schema):
    """The month of a run (`YYYY-MM`), from the HQ form."""

    month = fields.String(required=True, validate=validate.Regexp(
        r"^\d{4}-(0[1-9]|1[0-2])$", error=_l("Give a month as YYYY-MM, e.g. 2026-11.")))
