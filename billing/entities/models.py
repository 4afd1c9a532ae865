"""Billing entities: who issues invoices and collects payments (a global reference table).

One per campus (the franchisee's company) and one for HQ (`campus_id` NULL). An entity names the
invoice prefix of its numbering (`MOL-2026-0001`), its VAT number and rate, its bank account for
transfers, and how the campus takes payments: through Stripe, or `manual` where Stripe cannot
open an account for the entity (Morocco) and staff record cash and transfers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Identity, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, enum_column, utcnow
from core.extensions import db


class PaymentProvider(StrEnum):
    STRIPE = "stripe"
    MANUAL = "manual"


class BillingEntity(db.Model):
    __tablename__ = "billing_entities"
    __table_args__ = (
        CheckConstraint("vat_rate >= 0 AND vat_rate < 100", name="vat_rate_range"),
        CheckConstraint("payment_terms_days >= 0", name="payment_terms_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    campus_id: Mapped[int | None] = mapped_column(ForeignKey("campuses.id"), unique=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # invoice number prefix
    legal_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str] = mapped_column(String(2))
    vat_number: Mapped[str | None] = mapped_column(String(32))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # percent: 21.00
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    payment_provider: Mapped[PaymentProvider] = mapped_column(
        enum_column(PaymentProvider, 16), default=PaymentProvider.STRIPE)
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_hq(self) -> bool:
        return self.campus_id is None

    def __repr__(self) -> str:
        return f"<BillingEntity {self.code}>"
