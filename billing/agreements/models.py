"""Partner agreements, set by HQ (a global table): who sponsors which track at which campuses,
for which period, on which terms, with which targets.

Terms, all in the agreement's currency (every campus of an agreement uses it):
- a fixed fee per campus, invoiced in equal monthly instalments from the first month;
- an amount per learner admitted, per completion and per fully certified learner, invoiced for
  the facts of each month.
Each campus invoices its own share, so each payment lands in the ledger of the campus that did
the work.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Identity, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.catalogue.models import Track
from core.database import BigId, utcnow
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus

agreement_campuses = Table(
    "agreement_campuses",
    db.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column("campus_id", ForeignKey("campuses.id"), primary_key=True),
)


class Agreement(db.Model):
    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("instalments >= 1", name="instalments_positive"),
        CheckConstraint(
            "fixed_fee_minor >= 0 AND per_admitted_minor >= 0 AND per_completion_minor >= 0"
            " AND per_certified_minor >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    currency: Mapped[str] = mapped_column(String(3))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    fixed_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # per campus
    instalments: Mapped[int] = mapped_column(default=1)
    per_admitted_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    per_completion_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    per_certified_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    trained_target: Mapped[int | None]
    certified_target: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner] = relationship()
    track: Mapped[Track | None] = relationship()
    campuses: Mapped[list[Campus]] = relationship(secondary=agreement_campuses,
                                                  order_by="Campus.name")
