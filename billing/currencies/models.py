"""FX rates: units of a currency per euro, per day (a global reference table)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Identity, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, utcnow
from core.extensions import db

REPORTING_CURRENCY = "EUR"


class FxRate(db.Model):
    __tablename__ = "fx_rates"
    __table_args__ = (
        UniqueConstraint("currency", "day"),
        CheckConstraint("rate > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    day: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))  # units of `currency` per 1 EUR
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
