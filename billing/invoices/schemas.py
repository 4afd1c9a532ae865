"""Invoice input and output, shared by the pages and the JSON API of every site.

Two audiences, two output schemas: the campus's manager and HQ (`InvoiceSchema`, with drafts,
run keys and the ledger entry) and the partner contact (`PartnerInvoiceSchema`: what is printed
on the invoice, nothing internal).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates

from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.invoices.services import DESCRIPTION_MAX, MAX_LINES, NOTES_MAX, REFERENCE_MAX
from billing.invoices.vat import format_communication, treatment_of
from billing.ledger.schemas import WholeMinorUnits
from core.api import PageArgsSchema, strip_strings


def _rate(invoice: Invoice) -> str:
    return format(invoice.vat_rate.normalize(), "f")


def vat_treatment(invoice: Invoice) -> str:
    return treatment_of(invoice.reverse_charge, invoice.vat_rate,
                        (invoice.recipient_details or {}).get("country")).value


def _communication(invoice: Invoice) -> str | None:
    digits = invoice.structured_communication
    return format_communication(digits) if digits else None


class _Dated(Schema):
    """An input schema that is given today's date where the invoice's campus is."""

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def _not_future(self, value: date | None) -> None:
        if value is not None and self.today is not None and value > self.today:
            raise ValidationError(_("The date cannot be in the future."))


class InvoiceArgsSchema(PageArgsSchema):
    """Filters of an invoice list: `q` (number or partner), status, kind."""

    status = fields.Enum(InvoiceStatus, by_value=True, load_default=None, allow_none=True)
    kind = fields.Enum(InvoiceKind, by_value=True, load_default=None, allow_none=True)

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("q", "status", "kind", "page", "per_page"),
                             ("status", "kind", "page", "per_page"))

    @post_load
    def defaults(self, data: dict, **_kwargs: Any) -> dict:
        data["page"] = data.get("page") or 1
        data["per_page"] = data.get("per_page") or 25
        data["q"] = data.get("q") or ""
        return data


class HqInvoiceArgsSchema(InvoiceArgsSchema):
    campus = fields.String(load_default=None, allow_none=True,
                           validate=validate.Regexp(r"^[a-z0-9-]{1,40}$"),
                           metadata={"description": "A campus slug."})

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("q", "status", "kind", "page", "per_page", "campus"),
                             ("status", "kind", "page", "per_page", "campus"))


class PartnerInvoiceArgsSchema(InvoiceArgsSchema):
    class Meta:
        exclude = ("kind",)


class IssueInputSchema(_Dated):
    issued_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "The issue date; today at the campus when left out."})

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("issued_on",), ("issued_on",))

    @validates("issued_on")
    def _when(self, value: date | None, **_kwargs: Any) -> None:
        self._not_future(value)


class MarkPaidInputSchema(_Dated):
    paid_on = fields.Date(required=True, metadata={
        "description": "The day the transfer reached the account; not in the future."})
    reference = fields.String(load_default="", validate=validate.Length(max=REFERENCE_MAX),
                              metadata={"description": "The bank statement's reference."})

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("paid_on", "reference"), ("paid_on",))

    @validates("paid_on")
    def _when(self, value: date, **_kwargs: Any) -> None:
        self._not_future(value)


class CreditInputSchema(_Dated):
    reason = fields.String(required=True, validate=validate.Length(max=NOTES_MAX),
                           metadata={"description": "Why the invoice is credited (printed)."})
    issued_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "The credit note's date; today at the campus when left out."})

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("reason", "issued_on"), ("issued_on",))

    @validates("reason")
    def _given(self, value: str, **_kwargs: Any) -> None:
        if not value.strip():
            raise ValidationError(_("Say why the invoice is credited."))

    @validates("issued_on")
    def _when(self, value: date | None, **_kwargs: Any) -> None:
        self._not_future(value)


class LineInputSchema(Schema):
    description = fields.String(required=True,
                                validate=validate.Length(min=1, max=DESCRIPTION_MAX))
    quantity = fields.Integer(strict=True, load_default=1,
                              validate=validate.Range(min=1, max=1_000_000))
    unit_minor = WholeMinorUnits(required=True, validate=validate.Range(min=-10**12,
                                                                        max=10**12))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("description",))


class InvoiceInputSchema(Schema):
    """A draft partner invoice typed by hand (the currency is the campus's)."""

    partner_id = fields.Integer(strict=True, required=True)
    lines = fields.List(fields.Nested(LineInputSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))
    period_start = fields.Date(load_default=None, allow_none=True)
    period_end = fields.Date(load_default=None, allow_none=True)
    notes = fields.String(load_default="", validate=validate.Length(max=NOTES_MAX))


class PartyField(fields.Field):
    """A party as printed: name, address, country, VAT number (and bank for the issuer)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        value = value or {}
        keys = ("name", "address", "country", "vat_number", "iban", "bic")
        return {key: value.get(key) or "" for key in keys}


class InvoiceLineSchema(Schema):
    position = fields.Integer()
    description = fields.String()
    quantity = fields.Integer()
    unit_minor = fields.Integer()
    amount_minor = fields.Integer()


class _InvoiceBase(Schema):
    number = fields.String(allow_none=True)
    kind = fields.Enum(InvoiceKind, by_value=True)
    status = fields.Enum(InvoiceStatus, by_value=True)
    currency = fields.String()
    subtotal_minor = fields.Integer()
    vat_rate = fields.Function(_rate, metadata={"type": "string",
                                                "description": "Percent, e.g. \"21\"."})
    vat_minor = fields.Integer()
    total_minor = fields.Integer()
    reverse_charge = fields.Boolean()
    vat_treatment = fields.Function(vat_treatment, metadata={
        "type": "string", "enum": ["standard", "reverse_charge", "outside_scope"]})
    issued_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    structured_communication = fields.Function(_communication, allow_none=True, metadata={
        "type": "string", "description": "+++123/4567/89012+++ (null for a draft)."})
    issuer = PartyField(attribute="issuer_details")
    recipient = PartyField(attribute="recipient_details")
    credits = fields.Method("credited_number", allow_none=True, metadata={
        "type": "string", "description": "The number of the invoice a credit note cancels."})
    lines = fields.Method("dump_lines", allow_none=True, metadata={
        "type": "array", "items": {"type": "object"},
        "description": "In a single invoice only; null in lists."})

    def __init__(self, *args: Any, numbers: dict[int, str] | None = None,
                 with_lines: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.numbers = numbers or {}
        self.with_lines = with_lines

    def credited_number(self, invoice: Invoice) -> str | None:
        if invoice.credits_invoice_id is None:
            return None
        return self.numbers.get(invoice.credits_invoice_id)

    def dump_lines(self, invoice: Invoice) -> list[dict] | None:
        if not self.with_lines:
            return None
        return InvoiceLineSchema(many=True).dump(invoice.lines)


class InvoiceSchema(_InvoiceBase):
    """An invoice as the issuing campus's manager and HQ see it."""

    id = fields.Integer()
    partner_id = fields.Integer(allow_none=True)
    agreement_id = fields.Integer(allow_none=True)
    issuer_code = fields.Function(lambda invoice: invoice.issuer.code,
                                  metadata={"type": "string"})
    run_key = fields.String(allow_none=True)
    notes = fields.String()
    payment_reference = fields.String()
    entry_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class HqInvoiceSchema(InvoiceSchema):
    campus = fields.Method("campus_slug", metadata={"type": "string"})

    def __init__(self, *args: Any, campus_slugs: dict[int, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campus_slugs = campus_slugs or {}

    def campus_slug(self, invoice: Invoice) -> str | None:
        return self.campus_slugs.get(invoice.campus_id)


class PartnerInvoiceSchema(_InvoiceBase):
    """An invoice as the partner it bills sees it: what is printed on it."""

    notes = fields.String()
