"""Users, their roles and their API tokens (global tables: a user is not campus-owned)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Identity, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import BigId, utcnow
from core.extensions import db
from core.partners.models import Partner
from core.sites import Site, SiteKind


class Role(StrEnum):
    HQ_ADMIN = "hq_admin"
    CAMPUS_MANAGER = "campus_manager"
    CAMPUS_STAFF = "campus_staff"
    PARTNER_CONTACT = "partner_contact"


CAMPUS_ROLES = frozenset({Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF})


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role IN ('campus_manager', 'campus_staff')) = (campus_id IS NOT NULL)",
            name="campus_role_has_campus",
        ),
        CheckConstraint(
            "(role = 'partner_contact') = (partner_id IS NOT NULL)",
            name="partner_role_has_partner",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))  # the language chosen (core.i18n)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])
    )
    campus_id: Mapped[int | None] = mapped_column(ForeignKey("campuses.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None]

    partner: Mapped[Partner | None] = relationship()

    @property
    def is_hq(self) -> bool:
        return self.role is Role.HQ_ADMIN

    def may_act_on(self, site: Site | None) -> bool:
        """Whether this user may sign in and act on `site`.

        HQ acts on HQ and every campus site; campus people only on their own campus;
        partner contacts only on the partner portal. Nobody signs in on the public apex.
        """
        if site is None or not self.is_active:
            return False
        if site.kind is SiteKind.HQ:
            return self.is_hq
        if site.kind is SiteKind.CAMPUS:
            return self.is_hq or (self.role in CAMPUS_ROLES and self.campus_id == site.campus_id)
        if site.kind is SiteKind.PARTNERS:
            return self.role is Role.PARTNER_CONTACT
        return False

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API, valid on one site only; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    site_key: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()
