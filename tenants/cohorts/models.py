"""Cohorts: one run of a catalogue course at a campus."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.catalogue.models import Course
from core.database import enum_column, utcnow
from core.extensions import db
from core.partners.models import Partner
from tenants.scoping import CampusOwned


class CohortStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"          # open for applications
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Funding(StrEnum):
    FREE = "free"
    PAID = "paid"
    SPONSORED = "sponsored"


class Cohort(CampusOwned, db.Model):
    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("seats > 0", name="seats_positive"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        Index("ix_cohorts_campus_id_status_starts_on", "campus_id", "status", "starts_on"),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    schedule: Mapped[str] = mapped_column(String(200), default="")
    seats: Mapped[int]
    language: Mapped[str] = mapped_column(String(8))
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    funding: Mapped[Funding] = mapped_column(enum_column(Funding, 16), default=Funding.FREE)
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    status: Mapped[CohortStatus] = mapped_column(enum_column(CohortStatus, 16),
                                                 default=CohortStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    sponsor: Mapped[Partner | None] = relationship()

    def __repr__(self) -> str:
        return f"<Cohort {self.campus_id}/{self.id}>"
