"""Campuses: the tenants. A global reference table; everything a campus owns points here."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Enum, Identity, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, utcnow
from core.extensions import db


class CampusStatus(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class Campus(db.Model):
    __tablename__ = "campuses"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    default_locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[CampusStatus] = mapped_column(
        Enum(CampusStatus, native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=CampusStatus.PLANNED,
    )
    opened_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Campus {self.slug}>"
