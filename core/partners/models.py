"""Partners who sponsor programmes (global reference table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Identity, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, utcnow
from core.extensions import db


class Partner(db.Model):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    vat_number: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text, default="")  # printed on its invoices
    billing_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Partner {self.slug}>"
