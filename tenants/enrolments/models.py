"""Enrolments: a learner in a cohort, with attendance and completion."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, enum_column, utcnow
from core.extensions import db
from tenants.cohorts.models import Cohort
from tenants.learners.models import Learner
from tenants.scoping import CampusOwned, campus_foreign_key, campus_relationship


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    DROPPED = "dropped"


class Enrolment(CampusOwned, db.Model):
    __tablename__ = "enrolments"
    __table_args__ = (
        campus_foreign_key("cohort_id", "cohorts"),
        campus_foreign_key("learner_id", "learners"),
        campus_foreign_key("application_id", "applications"),
        UniqueConstraint("campus_id", "cohort_id", "learner_id"),
        CheckConstraint("attendance_percent IS NULL OR attendance_percent BETWEEN 0 AND 100",
                        name="attendance_range"),
        Index("ix_enrolments_campus_id_learner_id", "campus_id", "learner_id"),
    )

    cohort_id: Mapped[int] = mapped_column(BigId)
    learner_id: Mapped[int] = mapped_column(BigId)
    application_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[EnrolmentStatus] = mapped_column(enum_column(EnrolmentStatus, 16),
                                                    default=EnrolmentStatus.ENROLLED)
    attendance_percent: Mapped[int | None]
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_on: Mapped[date | None]
    dropped_at: Mapped[datetime | None]

    cohort: Mapped[Cohort] = campus_relationship("Enrolment", "Cohort", "cohort_id")
    learner: Mapped[Learner] = campus_relationship("Enrolment", "Learner", "learner_id")
