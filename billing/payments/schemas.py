"""Order input and output, shared by the campus's order pages and the JSON API.

The API names the subject by its id (`enrolment_id`, `membership_id` or `registration_id`,
exactly one); the new-order form sends one choice `subject` = "enrolment_id:12". The test-card
form (local payment server only) takes the number, the expiry as MM/YY and the CVC.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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

from billing.entities.models import PaymentProvider
from billing.payments.links import payment_token
from billing.payments.models import Order, OrderPurpose, OrderStatus
from core.api import PageArgsSchema, strip_strings

POSITIVE_ID = validate.Range(min=1, max=2**63 - 1)
SUBJECT_FIELDS = ("enrolment_id", "membership_id", "registration_id")
SUBJECT_PATTERN = re.compile(r"^(enrolment_id|membership_id|registration_id):([1-9]\d{0,17})$")
EXPIRY_PATTERN = re.compile(r"^(0[1-9]|1[0-2])\s*/\s*(\d{2}|\d{4})$")
REFERENCE_MAX = 120


class OrderArgsSchema(PageArgsSchema):
    """Filters of the order list: status, purpose and a search on the payer (`q`)."""

    status = fields.Enum(OrderStatus, by_value=True, load_default=None, allow_none=True)
    purpose = fields.Enum(OrderPurpose, by_value=True, load_default=None, allow_none=True)

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("status", "purpose", "q"), ("status", "purpose"))


class OrderInputSchema(Schema):
    """What an order is for: exactly one of an enrolment (paid cohort), a membership or an
    event registration of this campus. Amount, currency and payer come from it."""

    enrolment_id = fields.Integer(strict=True, load_default=None, allow_none=True,
                                  validate=POSITIVE_ID,
                                  metadata={"description": "An enrolment in a paid cohort."})
    membership_id = fields.Integer(strict=True, load_default=None, allow_none=True,
                                   validate=POSITIVE_ID,
                                   metadata={"description": "A membership of a priced plan."})
    registration_id = fields.Integer(strict=True, load_default=None, allow_none=True,
                                     validate=POSITIVE_ID,
                                     metadata={"description": "A registration to a priced "
                                                              "event."})

    @validates_schema
    def _exactly_one(self, data: dict, **_kwargs: Any) -> None:
        if sum(data.get(name) is not None for name in SUBJECT_FIELDS) != 1:
            raise ValidationError(_("Name exactly one of enrolment_id, membership_id or "
                                    "registration_id."))


class OrderFormSchema(Schema):
    """The new-order form: one choice among the campus's unpaid subjects."""

    subject = fields.String(required=True, error_messages={
        "required": _l("Choose what is being paid for.")})

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("subject",))

    @validates("subject")
    def _known_shape(self, value: str, **_kwargs: Any) -> None:
        if not SUBJECT_PATTERN.match(value):
            raise ValidationError(_("Choose what is being paid for."))

    @post_load
    def to_ids(self, data: dict, **_kwargs: Any) -> dict:
        name, row_id = SUBJECT_PATTERN.match(data["subject"]).groups()
        return {name: int(row_id)}


class ManualPaymentInputSchema(Schema):
    """Cash or a transfer received: its reference, and the day (default today at the campus)."""

    reference = fields.String(required=True, validate=validate.Length(max=REFERENCE_MAX),
                              metadata={"description": "Cash receipt number or the transfer's "
                                                       "reference."})
    paid_on = fields.Date(load_default=None, allow_none=True,
                          metadata={"description": "When the money came in; defaults to today, "
                                                   "never in the future."})

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("reference", "paid_on"), ("paid_on",))

    @validates("reference")
    def _given(self, value: str, **_kwargs: Any) -> None:
        if not value.strip():
            raise ValidationError(_("The cash receipt or transfer reference."))

    @validates("paid_on")
    def _not_in_future(self, value: date | None, **_kwargs: Any) -> None:
        if value is not None and self.today is not None and value > self.today:
            raise ValidationError(_("The date cannot be in the future."))


class TestCardSchema(Schema):
    """A card typed into our own form (only with a local Stripe-compatible server)."""

    number = fields.String(required=True, error_messages={"required": _l("Enter the card "
                                                                          "number.")})
    expiry = fields.String(required=True, error_messages={"required": _l("Enter the expiry "
                                                                          "date as MM/YY.")})
    cvc = fields.String(required=True, error_messages={"required": _l("Enter the CVC.")})

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        return strip_strings(data, ("number", "expiry", "cvc"))

    @validates("number")
    def _number(self, value: str, **_kwargs: Any) -> None:
        digits = "".join(value.split())
        if not (digits.isdigit() and 13 <= len(digits) <= 19):
            raise ValidationError(_("Enter the 13 to 19 digits of the card number."))

    @validates("expiry")
    def _expiry(self, value: str, **_kwargs: Any) -> None:
        if not EXPIRY_PATTERN.match(value):
            raise ValidationError(_("Enter the expiry date as MM/YY."))

    @validates("cvc")
    def _cvc(self, value: str, **_kwargs: Any) -> None:
        if not (value.isdigit() and len(value) in (3, 4)):
            raise ValidationError(_("Enter the 3 or 4 digits on the back of the card."))

    @post_load
    def split(self, data: dict, **_kwargs: Any) -> dict:
        month, year = EXPIRY_PATTERN.match(data["expiry"]).groups()
        return {"number": "".join(data["number"].split()), "exp_month": int(month),
                "exp_year": int(year) + (2000 if len(year) == 2 else 0), "cvc": data["cvc"]}


class OrderSchema(Schema):
    """An order as the campus's manager and HQ see it (`payment_url`: the signed link to send
    to the payer, while the order is open)."""

    id = fields.Integer()
    purpose = fields.Enum(OrderPurpose, by_value=True)
    status = fields.Enum(OrderStatus, by_value=True)
    provider = fields.Enum(PaymentProvider, by_value=True)
    description = fields.String()
    payer_name = fields.String()
    payer_email = fields.String()
    amount_minor = fields.Integer()
    currency = fields.String()
    enrolment_id = fields.Integer(allow_none=True)
    membership_id = fields.Integer(allow_none=True)
    registration_id = fields.Integer(allow_none=True)
    invoice_id = fields.Integer(allow_none=True)
    payment_intent_id = fields.String(allow_none=True)
    refund_id = fields.String(allow_none=True)
    payment_reference = fields.String()
    last_error = fields.String(metadata={"description": "Why the last payment attempt failed."})
    entry_id = fields.Integer(allow_none=True, metadata={"description": "Ledger entry of the "
                                                                        "payment."})
    refund_entry_id = fields.Integer(allow_none=True,
                                     metadata={"description": "Ledger entry of the refund."})
    created_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    refunded_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    payment_url = fields.Method("link", allow_none=True, metadata={"type": "string"})

    def link(self, order: Order) -> str | None:
        if order.status is not OrderStatus.OPEN:
            return None
        return url_for("payments.pay_link", token=payment_token(order.campus_id, order.id),
                       _external=True)
