"""The shared catalogue: tracks, courses and the certifications they prepare for (global tables).

HQ owns it; every campus schedules cohorts of its courses. A retired course stays for history and
can no longer be scheduled.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import BigId, enum_column, utcnow
from core.extensions import db

LANGUAGES = ("en", "fr", "nl", "it")


class CourseLevel(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Track(db.Model):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    courses: Mapped[list[Course]] = relationship(back_populates="track")


class Certification(db.Model):
    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(80))
    exam_code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


course_certifications = Table(
    "course_certifications",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("certification_id", ForeignKey("certifications.id"), primary_key=True),
)


class Course(db.Model):
    __tablename__ = "courses"
    __table_args__ = (CheckConstraint("hours > 0", name="hours_positive"),)

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), index=True)
    hours: Mapped[int]
    level: Mapped[CourseLevel] = mapped_column(enum_column(CourseLevel, 16))
    title_en: Mapped[str] = mapped_column(String(200))
    title_fr: Mapped[str | None] = mapped_column(String(200))
    title_nl: Mapped[str | None] = mapped_column(String(200))
    title_it: Mapped[str | None] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_fr: Mapped[str | None] = mapped_column(Text)
    description_nl: Mapped[str | None] = mapped_column(Text)
    description_it: Mapped[str | None] = mapped_column(Text)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    track: Mapped[Track] = relationship(back_populates="courses")
    certifications: Mapped[list[Certification]] = relationship(
        secondary=course_certifications, order_by=Certification.exam_code)

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def title(self, language: str = "en") -> str:
        """The title in `language` (`fr`, `fr_BE`…), falling back to English."""
        return getattr(self, f"title_{language[:2]}", None) or self.title_en

    def description(self, language: str = "en") -> str:
        return getattr(self, f"description_{language[:2]}", None) or self.description_en
