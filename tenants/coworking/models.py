"""Coworking: membership plans, memberships (learners or outside members), coaching sessions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User
from core.database import BigId, enum_column, utcnow
from core.extensions import db
from tenants.learners.models import Learner
from tenants.scoping import CampusOwned, campus_foreign_key, campus_relationship


class PlanKind(StrEnum):
    MONTHLY = "monthly"
    DAY_PASS = "day_pass"  # noqa: S105  (a kind of plan, not a secret)


class MembershipPlan(CampusOwned, db.Model):
    __tablename__ = "membership_plans"
    __table_args__ = (CheckConstraint("price_minor >= 0", name="price_not_negative"),)

    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[PlanKind] = mapped_column(enum_column(PlanKind, 16))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


class Membership(CampusOwned, db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        campus_foreign_key("plan_id", "membership_plans"),
        campus_foreign_key("learner_id", "learners"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
    )

    plan_id: Mapped[int] = mapped_column(BigId)
    learner_id: Mapped[int | None] = mapped_column(BigId)
    member_name: Mapped[str] = mapped_column(String(200))
    member_email: Mapped[str] = mapped_column(String(254))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    status: Mapped[MembershipStatus] = mapped_column(enum_column(MembershipStatus, 16),
                                                     default=MembershipStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[MembershipPlan] = campus_relationship("Membership", "MembershipPlan", "plan_id")
    learner: Mapped[Learner | None] = campus_relationship("Membership", "Learner", "learner_id")


class CoachingSession(CampusOwned, db.Model):
    __tablename__ = "coaching_sessions"
    __table_args__ = (
        campus_foreign_key("membership_id", "memberships"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    membership_id: Mapped[int] = mapped_column(BigId)
    coach_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    held_on: Mapped[date]
    duration_minutes: Mapped[int]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    membership: Mapped[Membership] = campus_relationship("CoachingSession", "Membership",
                                                         "membership_id")
    coach: Mapped[User] = relationship()
