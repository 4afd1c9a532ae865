"""The learning record beyond enrolment: certifications earned and outcomes on the path to work."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.catalogue.models import Certification
from core.database import BigId, enum_column, utcnow
from core.extensions import db
from tenants.learners.models import Learner
from tenants.scoping import CampusOwned, campus_foreign_key, campus_relationship


class CertificationAward(CampusOwned, db.Model):
    __tablename__ = "certification_awards"
    __table_args__ = (
        campus_foreign_key("learner_id", "learners"),
        UniqueConstraint("campus_id", "learner_id", "certification_id"),
    )

    learner_id: Mapped[int] = mapped_column(BigId)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id"))
    awarded_on: Mapped[date]
    credential_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[Learner] = campus_relationship("CertificationAward", "Learner", "learner_id")
    certification: Mapped[Certification] = relationship()


class OutcomeKind(StrEnum):
    EMPLOYED = "employed"
    INTERNSHIP = "internship"
    STARTED_BUSINESS = "started_business"
    FURTHER_EDUCATION = "further_education"


class Outcome(CampusOwned, db.Model):
    __tablename__ = "outcomes"
    __table_args__ = (campus_foreign_key("learner_id", "learners"),)

    learner_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[OutcomeKind] = mapped_column(enum_column(OutcomeKind, 24))
    employer: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(120))
    occurred_on: Mapped[date]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[Learner] = campus_relationship("Outcome", "Learner", "learner_id")
