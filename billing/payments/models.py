"""Orders (something a person pays for at a campus), the Stripe events already applied, and the
Stripe customers of partners.

An order is campus-owned: a cohort fee (for an enrolment), a coworking membership, an event
ticket (for a registration) or a partner invoice. Its status only moves forward:
open → paid → refunded, or open → cancelled. A declined card leaves it open with the reason in
`last_error`, so the payer can try again and nothing is marked paid.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.entities.models import PaymentProvider
from core.database import BigId, enum_column, utcnow
from core.extensions import db
from tenants.scoping import CampusOwned, campus_foreign_key


class OrderPurpose(StrEnum):
    COHORT_FEE = "cohort_fee"
    MEMBERSHIP = "membership"
    EVENT_TICKET = "event_ticket"
    INVOICE = "invoice"


class OrderStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


# How far along each status is: an event may move an order forward, never back.
ORDER_PROGRESS = {OrderStatus.OPEN: 0, OrderStatus.CANCELLED: 1, OrderStatus.PAID: 1,
                  OrderStatus.REFUNDED: 2}


class Order(CampusOwned, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        campus_foreign_key("enrolment_id", "enrolments"),
        campus_foreign_key("membership_id", "memberships"),
        campus_foreign_key("registration_id", "event_registrations"),
        campus_foreign_key("invoice_id", "invoices"),
        campus_foreign_key("entry_id", "revenue_entries"),
        campus_foreign_key("refund_entry_id", "revenue_entries"),
        UniqueConstraint("campus_id", "payment_intent_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "(CASE WHEN enrolment_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN membership_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN registration_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN invoice_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject"),
    )

    purpose: Mapped[OrderPurpose] = mapped_column(enum_column(OrderPurpose, 16))
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, 16),
                                                default=OrderStatus.OPEN)
    provider: Mapped[PaymentProvider] = mapped_column(enum_column(PaymentProvider, 16))
    enrolment_id: Mapped[int | None] = mapped_column(BigId)
    membership_id: Mapped[int | None] = mapped_column(BigId)
    registration_id: Mapped[int | None] = mapped_column(BigId)
    invoice_id: Mapped[int | None] = mapped_column(BigId)
    description: Mapped[str] = mapped_column(String(300))
    payer_name: Mapped[str] = mapped_column(String(200), default="")
    payer_email: Mapped[str] = mapped_column(String(254), default="")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    refund_id: Mapped[str | None] = mapped_column(String(255))
    payment_reference: Mapped[str] = mapped_column(String(120), default="")  # manual: receipt
    last_error: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[int | None] = mapped_column(BigId)
    refund_entry_id: Mapped[int | None] = mapped_column(BigId)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # manual payments
    refunded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class StripeEvent(db.Model):
    """A webhook event applied once: inserted in the same transaction as its effects."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(120))
    campus_id: Mapped[int | None] = mapped_column(ForeignKey("campuses.id"))
    outcome: Mapped[str] = mapped_column(String(120), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class StripeCustomer(db.Model):
    """The Stripe Customer of a partner (with its VAT number), created once."""

    __tablename__ = "stripe_customers"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
