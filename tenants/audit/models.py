"""The audit log: who changed what, where, when, with the values before and after.

Two append-only tables, so that the log follows the tenancy of what it records:

* `audit_entries` (campus-owned, under row-level security): changes to a campus's rows. A
  manager reads them through the normal campus scope, so another campus's entry is as absent
  as another campus's learner;
* `global_audit_entries` (a reference table, HQ's pages only): changes to global rows
  (catalogue, partners, agreements, users, billing entities, campuses…). Its `campus_id` is
  the campus such a row concerns, when it names one (a campus's user, entity or royalty rate),
  so that HQ's filter by campus finds them too.

Neither is ever deleted, nor changed through the ORM (refused here). In the database a trigger
refuses DELETE and UPDATE (migration 0006), with one exception: an erasure of a person's data
blanks their values in earlier entries (`before`/`after` only; who, when, what and which stay),
and records that it did (`privacy.py`). `AuditLogRow` reads both tables as one list (HQ).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Identity,
    Index,
    String,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Mapped, mapped_column, registry

from core.database import BigId, append_only, enum_column, utcnow
from core.extensions import db
from tenants.scoping import CampusOwned


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REDACT = "redact"  # a person's data erased from earlier entries (tenants/audit/privacy.py)


class ActorKind(StrEnum):
    USER = "user"  # a signed-in person (session or API token)
    WEBHOOK = "webhook"  # e.g. Stripe, through the webhook view
    CLI = "cli"  # a `flask …` command
    ANONYMOUS = "anonymous"  # a public page (an application, a ticket) or a sign-in
    SYSTEM = "system"  # anything else (scripts, the test suite's fixtures)


class AuditLogIsAppendOnly(RuntimeError):
    """Someone tried to change or delete an audit entry."""


class _AuditColumns:
    """What both tables record about one change of one row."""

    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, 16))
    object_type: Mapped[str] = mapped_column(String(64))  # the table of the changed row
    object_id: Mapped[str] = mapped_column(String(120))  # its key ("12"; "3,2026" if composite)
    # Changed columns only; a create has no `before`, a delete no `after`. Secrets: "[redacted]".
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, 16))
    # "manager@…" for a user (a snapshot: the log outlives renames), "webhook:stripe",
    # "flask billing royalties"…; the user id is no foreign key, so no user is kept for the log.
    actor: Mapped[str] = mapped_column(String(254))
    actor_user_id: Mapped[int | None] = mapped_column(BigId)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(_AuditColumns, CampusOwned, db.Model):
    """A change to one of a campus's rows (campus-owned: read through the campus scope)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_campus_id_recorded_at", "campus_id", "recorded_at"),
        Index("ix_audit_entries_campus_id_object_type", "campus_id", "object_type", "object_id"),
        Index("ix_audit_entries_recorded_at", "recorded_at"),  # HQ: every campus, latest first
    )


class GlobalAuditEntry(_AuditColumns, db.Model):
    """A change to a global row (catalogue, partners, users…): HQ reads these."""

    __tablename__ = "global_audit_entries"
    __table_args__ = (
        Index("ix_global_audit_entries_recorded_at", "recorded_at"),
        Index("ix_global_audit_entries_object_type", "object_type", "object_id"),
        Index("ix_global_audit_entries_campus_id", "campus_id"),
    )

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    campus_id: Mapped[int | None] = mapped_column(ForeignKey("campuses.id"))  # concerned


AUDIT_TABLES = frozenset({AuditEntry.__tablename__, GlobalAuditEntry.__tablename__})
AUDIT_MODELS = (AuditEntry, GlobalAuditEntry)

_COLUMNS = ("id", "campus_id", "recorded_at", "action", "object_type", "object_id", "before",
            "after", "actor_kind", "actor", "actor_user_id", "request_id", "ip")


def _branch(model: type, scope: str):
    table = model.__table__
    return select(literal_column(f"'{scope}'", String(8)).label("scope"),
                  *(table.c[name] for name in _COLUMNS))


# Both tables as one list, for HQ: a read-only mapping of their UNION ALL (in a registry of its
# own, so that nothing walking the app's models takes it for a table). Read it only across all
# campuses (`all_campuses()`); the services refuse to read it under a campus scope.
audit_log = union_all(_branch(AuditEntry, "campus"),
                      _branch(GlobalAuditEntry, "global")).subquery("audit_log")


class AuditLogRow:
    """One entry of either table; `scope` says which ("campus" or "global")."""

    scope: str
    id: int
    campus_id: int | None
    recorded_at: datetime
    action: AuditAction
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor_kind: ActorKind
    actor: str
    actor_user_id: int | None
    request_id: str | None
    ip: str | None


_read_models = registry()
_read_models.map_imperatively(AuditLogRow, audit_log,
                              primary_key=[audit_log.c.scope, audit_log.c.id])


append_only(AUDIT_MODELS, AuditLogIsAppendOnly, "Audit entries")
