"""Applications to a cohort, on motivation alone: no diploma, no prerequisite."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import BigId, enum_column, utcnow
from core.extensions import db
from tenants.cohorts.models import Cohort
from tenants.learners.models import Learner
from tenants.scoping import CampusOwned, campus_foreign_key, campus_relationship


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    INTERVIEW = "interview"
    ADMITTED = "admitted"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Application(CampusOwned, db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        campus_foreign_key("cohort_id", "cohorts"),
        campus_foreign_key("learner_id", "learners"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        Index("ix_applications_campus_id_cohort_id_status", "campus_id", "cohort_id", "status"),
    )

    cohort_id: Mapped[int] = mapped_column(BigId)
    learner_id: Mapped[int | None] = mapped_column(BigId)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    motivation: Mapped[str] = mapped_column(Text)
    consent_given_at: Mapped[datetime]
    # The locale of the page the application was made on (fr_BE, nl, ar…): the applicant's
    # e-mails are written in it. None for applications older than migration 0008.
    language: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[ApplicationStatus] = mapped_column(enum_column(ApplicationStatus, 16),
                                                      default=ApplicationStatus.SUBMITTED)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[int | None]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    waitlisted_at: Mapped[datetime | None]

    cohort: Mapped[Cohort] = campus_relationship("Application", "Cohort", "cohort_id")
    learner: Mapped[Learner | None] = campus_relationship("Application", "Learner", "learner_id")
