"""Events of a campus and their registrations, with check-in on the day."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, enum_column, utcnow
from core.extensions import db
from tenants.scoping import CampusOwned, campus_foreign_key, campus_relationship


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Event(CampusOwned, db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("ends_at > starts_at", name="times_in_order"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        Index("ix_events_campus_id_starts_at", "campus_id", "starts_at"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[EventStatus] = mapped_column(enum_column(EventStatus, 16),
                                                default=EventStatus.SCHEDULED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    CANCELLED = "cancelled"


class EventRegistration(CampusOwned, db.Model):
    __tablename__ = "event_registrations"
    __table_args__ = (
        campus_foreign_key("event_id", "events"),
        UniqueConstraint("campus_id", "event_id", "email"),
    )

    event_id: Mapped[int] = mapped_column(BigId)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus, 16),
                                                       default=RegistrationStatus.REGISTERED)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_at: Mapped[datetime | None]

    event: Mapped[Event] = campus_relationship("EventRegistration", "Event", "event_id")
