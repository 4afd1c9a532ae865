"""Learners: people a campus trains. The first campus-owned model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db
from tenants.scoping import CampusOwned


class Learner(CampusOwned, db.Model):
    __tablename__ = "learners"
    # One learner per e-mail per campus; campus_id leads every unique key (Citus).
    __table_args__ = (UniqueConstraint("campus_id", "email"),)

    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    consent_given_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Learner {self.campus_id}/{self.id}>"
