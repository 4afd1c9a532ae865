"""Orders in a learner's personal data (GDPR): exported with the rest of what the campus holds
about the person, and anonymised when the person is erased.

An order is the person's when its subject is one of their enrolments, memberships or event
registrations, or when it names them as the payer. Erasure clears the payer's name and e-mail
(snapshots copied from the subject when the order was made) and nothing else: amount, status,
dates and ledger links stay, so revenue, rollups and open totals are unchanged. Invoices are not
touched: their recipient is always a partner or a campus, never a learner, and an issued invoice
is immutable (billing/invoices/guards.py). Registered by `billing.payments.init_app`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from billing.payments.models import Order
from billing.payments.schemas import OrderSchema
from core.extensions import db
from tenants.learners.privacy import ERASED_NAME, PersonalDataSource, PersonalRecords


class PersonalOrderSchema(OrderSchema):
    """An order as the person it is about sees it: no payment link, no internal ids."""

    class Meta:
        exclude = ("invoice_id", "payment_intent_id", "refund_id", "last_error", "entry_id",
                   "refund_entry_id", "payment_url")


def _orders_of(records: PersonalRecords) -> list[Order]:
    """The bound campus's orders about the person (one query); a partner's invoice is never
    one of them, whatever its payer e-mail."""
    return list(db.session.scalars(select(Order).where(Order.invoice_id.is_(None), or_(
        Order.enrolment_id.in_(records.enrolment_ids),
        Order.membership_id.in_(records.membership_ids),
        Order.registration_id.in_(records.registration_ids),
        Order.payer_email == records.email,
    )).order_by(Order.created_at, Order.id)))


def export_orders(records: PersonalRecords) -> list[dict[str, Any]]:
    return PersonalOrderSchema(many=True).dump(_orders_of(records))


def erase_orders(records: PersonalRecords) -> int:
    """Clear the payer's name and e-mail on the person's orders; how many changed. The e-mail
    becomes empty rather than a placeholder: it is what a card payment's receipt is sent to."""
    changed = 0
    for order in _orders_of(records):
        if (order.payer_name, order.payer_email) != (ERASED_NAME, ""):
            order.payer_name, order.payer_email = ERASED_NAME, ""
            changed += 1
    db.session.flush()
    return changed


ORDERS_SOURCE = PersonalDataSource("orders", export_orders, erase_orders)
