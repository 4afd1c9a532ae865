"""The revenue ledger: append-only entries and their monthly rollups (both campus-owned).

An entry is never changed or deleted: a correction is a reversing entry. The ORM refuses updates
and deletes here; on PostgreSQL a trigger refuses them too. Each entry names its source with a key
unique per campus, so a replayed webhook or a double click cannot count twice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, append_only, enum_column, utcnow
from core.extensions import db
from tenants.scoping import CampusOwned, campus_foreign_key


class RevenueStream(StrEnum):
    TRAINING = "training"
    COWORKING = "coworking"
    EVENTS = "events"
    SPONSORSHIP = "sponsorship"
    OTHER = "other"


class EntrySource(StrEnum):
    PAYMENT = "payment"
    INVOICE = "invoice"
    MANUAL = "manual"


class LedgerIsAppendOnly(RuntimeError):
    """Someone tried to change or delete a ledger entry; correct it with a reversal instead."""


class RevenueEntry(CampusOwned, db.Model):
    __tablename__ = "revenue_entries"
    __table_args__ = (
        UniqueConstraint("campus_id", "source_key"),
        UniqueConstraint("campus_id", "reverses_id"),  # one reversal per entry, even racing
        campus_foreign_key("reverses_id", "revenue_entries"),
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        Index("ix_revenue_entries_campus_id_occurred_on", "campus_id", "occurred_on"),
    )

    occurred_on: Mapped[date]
    stream: Mapped[RevenueStream] = mapped_column(enum_column(RevenueStream, 16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    fx_rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    amount_eur_minor: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[EntrySource] = mapped_column(enum_column(EntrySource, 16))
    source_key: Mapped[str] = mapped_column(String(160))
    memo: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(BigId)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevenueRollup(CampusOwned, db.Model):
    """Sum of a campus's entries for one month, stream and currency, kept with each entry."""

    __tablename__ = "revenue_rollups"
    __table_args__ = (
        UniqueConstraint("campus_id", "month", "stream", "currency"),
        Index("ix_revenue_rollups_month", "month"),
    )

    month: Mapped[date]  # first day of the month
    stream: Mapped[RevenueStream] = mapped_column(enum_column(RevenueStream, 16))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_eur_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(default=0)


append_only((RevenueEntry,), LedgerIsAppendOnly, "Ledger entries", "add a reversal")
