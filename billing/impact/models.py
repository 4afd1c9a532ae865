"""Impact targets set by HQ: for a partner, a track and/or a campus (a global table)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Identity, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.catalogue.models import Track
from core.database import BigId, utcnow
from core.extensions import db
from core.partners.models import Partner


class ImpactTarget(db.Model):
    __tablename__ = "impact_targets"
    __table_args__ = (
        CheckConstraint("trained_target >= 0 AND certified_target >= 0", name="targets_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    campus_id: Mapped[int | None] = mapped_column(ForeignKey("campuses.id"))
    trained_target: Mapped[int] = mapped_column(default=0)
    certified_target: Mapped[int] = mapped_column(default=0)
    positive_outcome_target: Mapped[int | None]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner | None] = relationship()
    track: Mapped[Track | None] = relationship()
