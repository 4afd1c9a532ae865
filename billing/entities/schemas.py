"""Billing entity input (HQ's form and `PATCH /api/v1/billing-entities/<id>`) and output.

The input schema checks each field on its own (an IBAN's check digits, a BIC's shape, a known
country, a VAT rate from 0 to 99.99); whether a VAT number is valid for the entity's country and
whether Stripe may serve it are rules of the service, which knows the stored values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate
from stdnum import bic, iban
from stdnum.exceptions import ValidationError as NumberError

from billing.entities.models import BillingEntity, PaymentProvider
from billing.entities.services import entity_problems
from core.api import strip_strings

# ISO 3166 alpha-2 codes Babel knows, without its groupings and placeholders (EU, UN, ZZ…).
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if len(code) == 2 and code.isalpha()
                      and code not in {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
TEXT = ("legal_name", "address", "country", "vat_number", "iban", "bic", "payment_provider",
        "code", "vat_rate", "payment_terms_days")


def _iban(value: str) -> None:
    if not value:
        return
    try:
        # Structure and check digits by the IBAN registry (ISO 13616); national bank-code lists
        # (check_country) go stale and would refuse a real account of a newer bank.
        iban.validate(value, check_country=False)
    except NumberError as error:
        raise ValidationError(str(_l("This is not a valid IBAN (check the digits)."))) from error


def _bic(value: str) -> None:
    if not value:
        return
    try:
        bic.validate(value)
    except NumberError as error:
        raise ValidationError(str(_l("A BIC has 8 or 11 letters and digits, e.g. GKCCBEBB."))
                              ) from error


class BillingEntityInputSchema(Schema):
    """What HQ edits on an entity (all fields; PATCH takes any of them)."""

    legal_name = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Enter the legal name in at most {max} characters.")))
    address = fields.String(required=True, validate=validate.Length(
        min=1, max=1000, error=_l("Enter the address printed on invoices (at most {max} "
                                  "characters).")))
    country = fields.String(required=True, validate=validate.OneOf(
        sorted(COUNTRIES), error=_l("Use a two-letter ISO country code, e.g. BE.")))
    vat_number = fields.String(required=True, validate=validate.Length(
        min=1, max=32, error=_l("Enter the VAT or tax number (at most {max} characters).")),
        metadata={"description": "Checked with python-stdnum in EU member states"})
    vat_rate = fields.Decimal(required=True, places=None, allow_nan=False, as_string=True,
                              validate=validate.Range(
                                  min=Decimal("0"), max=Decimal("99.99"),
                                  error=_l("A percentage from {min} to {max}.")),
                              metadata={"description": "Percent, at most 2 decimals: 21.00"})
    iban = fields.String(load_default="", validate=[validate.Length(max=34), _iban],
                         metadata={"description": "For transfers; empty where the country has "
                                                  "no IBAN (Morocco)"})
    bic = fields.String(load_default="", validate=[validate.Length(max=11), _bic])
    payment_provider = fields.String(required=True, validate=validate.OneOf(
        [p.value for p in PaymentProvider], error=_l("Choose stripe or manual.")))
    payment_terms_days = fields.Integer(required=True, validate=validate.Range(
        min=0, max=365, error=_l("A number of days from {min} to {max}.")))
    code = fields.String(validate=validate.Regexp(
        r"^[A-Z][A-Z0-9]{1,7}$",
        error=_l("2 to 8 capital letters or digits, starting with a letter (e.g. MOL).")),
        metadata={"description": "Invoice number prefix; fixed once an invoice is issued"})

    @pre_load
    def clean(self, data: Any, **_kwargs: Any) -> Any:
        data = strip_strings(data, TEXT)
        if not isinstance(data, dict):
            return data
        for name in ("country", "code", "bic", "iban"):
            if isinstance(data.get(name), str):
                data[name] = data[name].upper()
        if isinstance(data.get("iban"), str):
            data["iban"] = iban.compact(data["iban"])
        if isinstance(data.get("bic"), str):
            data["bic"] = bic.compact(data["bic"])
        if isinstance(data.get("vat_rate"), str):
            data["vat_rate"] = data["vat_rate"].replace(",", ".").rstrip("%").strip()
        return data

    @post_load
    def normalise(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "legal_name" in data:
            data["legal_name"] = " ".join(data["legal_name"].split())
        rate = data.get("vat_rate")
        if rate is not None:
            if rate != rate.quantize(Decimal("0.01")):
                raise ValidationError({"vat_rate": [str(_l("At most 2 decimals, e.g. 21 or "
                                                           "5.5."))]})
            data["vat_rate"] = rate.quantize(Decimal("0.01"))
        if "payment_provider" in data:
            data["payment_provider"] = PaymentProvider(data["payment_provider"])
        return data


class BillingEntitySchema(Schema):
    """An entity as HQ sees it (`campus`: the campus's slug, null for HQ)."""

    id = fields.Integer()
    campus = fields.Method("campus_slug", metadata={"type": "string", "nullable": True})
    is_hq = fields.Boolean()
    code = fields.String()
    code_locked = fields.Method("is_locked", metadata={"type": "boolean"})
    legal_name = fields.String()
    address = fields.String()
    country = fields.String()
    vat_number = fields.String(allow_none=True)
    vat_rate = fields.Decimal(as_string=True)
    iban = fields.String()
    bic = fields.String()
    payment_provider = fields.Function(lambda e: e.payment_provider.value,
                                       metadata={"type": "string", "enum": ["stripe", "manual"]})
    payment_terms_days = fields.Integer()
    created_at = fields.DateTime()

    def __init__(self, *args: Any, campuses: dict[int, str] | None = None,
                 locked: set[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._campuses = campuses or {}
        self._locked = locked or set()

    def campus_slug(self, entity) -> str | None:
        return None if entity.campus_id is None else self._campuses.get(entity.campus_id)

    def is_locked(self, entity) -> bool:
        return entity.id in self._locked


def all_problems(entity: BillingEntity, error: ValidationError) -> dict[str, Any]:
    """The field errors of a failed load of BillingEntityInputSchema, with those the service's
    rules find in the fields that did load (so a form shows every problem at once)."""
    messages = dict(error.messages) if isinstance(error.messages, dict) else {}
    valid = error.valid_data if isinstance(error.valid_data, dict) else {}
    return {**entity_problems(entity, valid, messages), **messages}
