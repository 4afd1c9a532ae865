"""Reading the audit log: the bound campus's entries, or (HQ) every entry of the network.

A campus's list reads `audit_entries` through the campus scope (ORM criteria and row-level
security), so another campus's entry can never appear. HQ's list reads both tables as one
(`AuditLogRow`) and must run inside `all_campuses()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from core.database import like_pattern
from core.errors import InvalidInput
from core.exports import Column
from core.extensions import db
from tenants.audit.capture import EXCLUDED_TABLES
from tenants.audit.models import ActorKind, AuditAction, AuditEntry, AuditLogRow
from tenants.campuses.models import Campus
from tenants.scoping import CampusOwned, UnscopedQueryError, current_scope

# How the pages name the tables of the log; any other table shows under its own name.
OBJECT_LABELS = {
    "learners": _l("Learner"), "cohorts": _l("Cohort"), "applications": _l("Application"),
    "enrolments": _l("Enrolment"), "certification_awards": _l("Certification award"),
    "outcomes": _l("Outcome"), "membership_plans": _l("Membership plan"),
    "memberships": _l("Membership"), "coaching_sessions": _l("Coaching session"),
    "events": _l("Event"), "event_registrations": _l("Event registration"),
    "revenue_entries": _l("Revenue entry"), "invoices": _l("Invoice"),
    "invoice_lines": _l("Invoice line"), "orders": _l("Payment order"),
    "campuses": _l("Campus"), "users": _l("User"), "api_tokens": _l("API token"),
    "partners": _l("Partner"), "tracks": _l("Track"), "courses": _l("Course"),
    "certifications": _l("Certification"), "fx_rates": _l("FX rate"),
    "agreements": _l("Agreement"), "billing_entities": _l("Billing entity"),
    "royalty_rates": _l("Royalty rate"), "impact_targets": _l("Impact target"),
    "stripe_customers": _l("Stripe customer"),
}
CSV_HEADER = ("recorded_at", "scope", "campus", "action", "object_type", "object_id",
              "actor_kind", "actor", "actor_user_id", "changed", "before", "after",
              "request_id", "ip")


def object_label(table: str) -> str:
    return str(OBJECT_LABELS.get(table) or table.replace("_", " ").capitalize())


def object_types(campus_only: bool) -> list[str]:
    """The tables whose changes the log records (a campus's own, or all), by label."""
    tables = {
        mapper.local_table.name for mapper in db.Model.registry.mappers
        if (issubclass(mapper.class_, CampusOwned) or not campus_only)
        and mapper.local_table.name not in EXCLUDED_TABLES
    }
    return sorted(tables, key=object_label)


def campuses() -> list[Any]:
    """(id, slug, name) of every campus, by name: HQ's filter and the names in its list."""
    return db.session.execute(select(Campus.id, Campus.slug, Campus.name)
                              .order_by(Campus.name)).all()


def campus_id_for(slug: str | None, known: list[Any]) -> int | None:
    """The id of the campus `slug` among `known`; raises InvalidInput for an unknown one."""
    if not slug:
        return None
    for campus in known:
        if campus.slug == slug:
            return campus.id
    raise InvalidInput(_("No such campus."), {"campus": [_("No such campus.")]})


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _filtered(statement: Select, entity: Any, filters: dict[str, Any], timezone: str) -> Select:
    if filters.get("actor"):
        statement = statement.where(entity.actor.ilike(like_pattern(filters["actor"]),
                                                       escape="\\"))
    if filters.get("action"):
        statement = statement.where(entity.action == filters["action"])
    if filters.get("object_type"):
        statement = statement.where(entity.object_type == filters["object_type"])
    if filters.get("object_id"):
        statement = statement.where(entity.object_id == filters["object_id"])
    if filters.get("date_from"):
        statement = statement.where(entity.recorded_at >= _day_start(filters["date_from"],
                                                                     timezone))
    if filters.get("date_to"):
        statement = statement.where(
            entity.recorded_at < _day_start(filters["date_to"] + timedelta(days=1), timezone))
    return statement


def campus_log_query(filters: dict[str, Any], timezone: str = "UTC") -> Select:
    """The bound campus's entries matching `filters`, latest first (campus scope applies)."""
    statement = select(AuditEntry).order_by(AuditEntry.recorded_at.desc(), AuditEntry.id.desc())
    return _filtered(statement, AuditEntry, filters, timezone)


def network_log_query(filters: dict[str, Any], timezone: str = "UTC",
                      campus_id: int | None = None) -> Select:
    """Every entry of the network (campus and global rows) matching `filters`, latest first;
    with `campus_id`, a campus's entries and the global entries naming it.

    Read it inside `all_campuses()`; raises UnscopedQueryError when a campus is bound, since
    the union is not a campus-owned model the ORM would confine."""
    if current_scope().campus_id is not None:
        raise UnscopedQueryError("The network's audit log is read across campuses only.")
    statement = select(AuditLogRow).order_by(AuditLogRow.recorded_at.desc(),
                                             AuditLogRow.scope, AuditLogRow.id.desc())
    if campus_id is not None:
        statement = statement.where(AuditLogRow.campus_id == campus_id)
    return _filtered(statement, AuditLogRow, filters, timezone)


# ---- showing an entry ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str | None
    after: str | None


def shown_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def field_changes(entry: Any) -> list[FieldChange]:
    """The entry's changed fields, each with its value before and after (None: no value)."""
    before, after = entry.before or {}, entry.after or {}
    return [FieldChange(key, shown_value(before.get(key)), shown_value(after.get(key)))
            for key in sorted({*before, *after})]


def _json_cell(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changed(entry: Any) -> str:
    return " ".join(sorted({*(entry.before or {}), *(entry.after or {})}))


def export_columns(slugs: dict[int, str]) -> tuple[Column, ...]:
    """The export's columns (`CSV_HEADER`, machine names: the file is data for other tools);
    `slugs` names the campuses the rows may belong to. Read the rows under the scope the list
    was read in."""
    cells = (
        ("datetime", lambda entry: entry.recorded_at),
        ("text", lambda entry: getattr(entry, "scope", "campus")),
        ("text", lambda entry: slugs.get(entry.campus_id, "") if entry.campus_id else ""),
        ("text", lambda entry: AuditAction(entry.action).value),
        ("text", lambda entry: entry.object_type),
        ("text", lambda entry: entry.object_id),
        ("text", lambda entry: ActorKind(entry.actor_kind).value),
        ("text", lambda entry: entry.actor),
        ("number", lambda entry: entry.actor_user_id),
        ("text", _changed),
        ("text", lambda entry: _json_cell(entry.before)),
        ("text", lambda entry: _json_cell(entry.after)),
        ("text", lambda entry: entry.request_id),
        ("text", lambda entry: entry.ip),
    )
    return tuple(Column(header, value, kind)
                 for header, (kind, value) in zip(CSV_HEADER, cells, strict=True))
