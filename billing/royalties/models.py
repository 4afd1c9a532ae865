"""Royalty rates set by HQ per campus and revenue stream (a global table)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Identity, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.ledger.models import RevenueStream
from core.database import BigId, enum_column, utcnow
from core.extensions import db


class RoyaltyRate(db.Model):
    __tablename__ = "royalty_rates"
    __table_args__ = (
        UniqueConstraint("campus_id", "stream"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate_range"),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    campus_id: Mapped[int] = mapped_column(ForeignKey("campuses.id"))
    stream: Mapped[RevenueStream] = mapped_column(enum_column(RevenueStream, 16))
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))  # percent of the month's revenue
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
