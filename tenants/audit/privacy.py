"""The audit log in a learner's personal data (GDPR): exported with the rest, and redacted when
the person is erased.

The log keeps the values of every change, so it holds what an erasure clears (names, e-mails,
phones, free text), the erasure's own entries included. Registered as the last personal-data
source (after every other one has anonymised and flushed its rows), the redaction:

1. takes the entries of the person's rows (learner, applications, enrolments, awards, outcomes,
   memberships, coaching sessions, registrations) and blanks ("[erased]") the old values of every
   field the erasure left empty or anonymised on that row;
2. finds the campus's other entries that name the person (their names, e-mails, phone, as the
   person's entries recorded them: an order's payer, for instance) and blanks those values;
3. records one `redact` entry on the learner saying how many entries it changed.

Who, when, which object and which fields stay: the entries still say that something changed.
Only values are rewritten, only here, and only inside the transaction that asked for it (the
database refuses any other change: migration 0006).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Text, cast, or_, select, text, tuple_, update
from sqlalchemy.engine import Connection

from core.database import like_pattern
from core.extensions import db
from tenants.audit.capture import jsonable, record_entry
from tenants.audit.models import AuditAction, AuditEntry
from tenants.learners.privacy import (
    ERASED_NAME,
    PersonalDataSource,
    PersonalRecords,
    erased_email,
)

ERASED = "[erased]"
# Fields whose values identify the person wherever else they appear (an order's payer).
IDENTIFYING = ("name", "email", "phone")
MIN_SEARCHED = 5  # characters: shorter values would match strangers' entries


def _rows(records: PersonalRecords) -> dict[tuple[str, str], Any]:
    """The person's rows at the bound campus, by (table, id) as the log names them."""
    rows = [records.learner, *records.applications, *records.enrolments, *records.awards,
            *records.outcomes, *records.memberships, *records.coaching_sessions,
            *records.registrations]
    return {(row.__table__.name, str(row.id)): row for row in rows}


def _entries_of(objects) -> list[AuditEntry]:
    if not objects:
        return []
    return list(db.session.scalars(
        select(AuditEntry).where(tuple_(AuditEntry.object_type, AuditEntry.object_id).in_(
            list(objects))).order_by(AuditEntry.recorded_at, AuditEntry.id)))


# ---- export ------------------------------------------------------------------------------------


def export_audit_entries(records: PersonalRecords) -> list[dict[str, Any]]:
    """The changes recorded on the person's rows (who made them is the campus's staff: only the
    kind of actor is given)."""
    return [{"recorded_at": jsonable(entry.recorded_at), "action": entry.action.value,
             "object_type": entry.object_type, "object_id": entry.object_id,
             "before": entry.before, "after": entry.after,
             "actor_kind": entry.actor_kind.value}
            for entry in _entries_of(_rows(records))]


# ---- erasure -----------------------------------------------------------------------------------


def _erased_fields(row: Any, learner_id: int) -> set[str]:
    """The fields the erasure left empty or anonymised on `row`."""
    placeholders = {None, "", ERASED_NAME, erased_email(learner_id)}
    return {column.key for column in row.__mapper__.column_attrs
            if getattr(row, column.key) in placeholders}


def _mentions(value: Any, searched: set[str]) -> bool:
    text_value = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return any(term in text_value for term in searched)


def _is_placeholder(value: Any, placeholders: set[str]) -> bool:
    return value is None or (isinstance(value, str) and value in placeholders)


def _redacted(values: dict[str, Any] | None, fields: set[str], searched: set[str],
              placeholders: set[str]) -> dict[str, Any] | None:
    """`values` with the person's blanked: text of an erased field, anything naming them."""
    if not values:
        return values
    return {key: (ERASED if not _is_placeholder(value, placeholders) and (
        (key in fields and isinstance(value, str)) or _mentions(value, searched)) else value)
        for key, value in values.items()}


def _identifying_values(records: PersonalRecords, entries: list[AuditEntry],
                        placeholders: set[str]) -> set[str]:
    values = {records.full_name, records.email, records.phone}
    for entry in entries:
        for side in (entry.before or {}, entry.after or {}):
            values |= {value for key, value in side.items()
                       if isinstance(value, str) and any(part in key for part in IDENTIFYING)}
    return {value for value in values
            if isinstance(value, str) and value not in placeholders and len(value) >= MIN_SEARCHED}


def _naming(searched: set[str], known: set[int]) -> list[AuditEntry]:
    """The bound campus's other entries whose values contain one of `searched` (one scan: an
    erasure is rare)."""
    if not searched:
        return []
    # Values are stored as JSON text: look for each as JSON writes it.
    patterns = [like_pattern(json.dumps(term)[1:-1]) for term in sorted(searched)]
    conditions = [column.like(pattern, escape="\\") for pattern in patterns
                  for column in (cast(AuditEntry.before, Text), cast(AuditEntry.after, Text))]
    statement = select(AuditEntry).where(or_(*conditions))
    if known:
        statement = statement.where(AuditEntry.id.notin_(known))
    return list(db.session.scalars(statement))


@contextmanager
def _values_may_be_redacted(connection: Connection) -> Iterator[None]:
    """Lift the database's refusal for the statements inside (values only; PostgreSQL). The
    setting is the transaction's (or savepoint's): a failure inside rolls it back with it."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text("SELECT set_config('app.audit_redaction', 'on', true)"))
    yield
    if postgres:
        connection.execute(text("SELECT set_config('app.audit_redaction', '', true)"))


def erase_audit_values(records: PersonalRecords) -> int:
    """Blank the person's values in the bound campus's audit entries; how many entries changed.
    Runs after the other sources (the erasure's own entries are written by then)."""
    learner = records.learner
    placeholders = {"", ERASED, ERASED_NAME, erased_email(learner.id)}
    rows = _rows(records)
    own = _entries_of(rows)
    searched = _identifying_values(records, own, placeholders)
    fields = {key: _erased_fields(row, learner.id) for key, row in rows.items()}
    changes: dict[int, tuple[Any, Any]] = {}
    entries = [*own, *_naming(searched, {entry.id for entry in own})]
    for entry in entries:
        erased = fields.get((entry.object_type, entry.object_id), set())
        before = _redacted(entry.before, erased, searched, placeholders)
        after = _redacted(entry.after, erased, searched, placeholders)
        if (before, after) != (entry.before, entry.after):
            changes[entry.id] = (before, after)
    if changes:
        connection = db.session.connection()
        table = AuditEntry.__table__
        with _values_may_be_redacted(connection):
            for entry_id, (before, after) in changes.items():
                connection.execute(update(table).where(
                    table.c.campus_id == learner.campus_id, table.c.id == entry_id)
                    .values(before=before, after=after))
        for entry in entries:
            db.session.expire(entry)  # the ORM's copies are stale now
        record_entry(learner, AuditAction.REDACT, None, {"entries": len(changes)})
    return len(changes)


AUDIT_SOURCE = PersonalDataSource("audit_log", export_audit_entries, erase_audit_values,
                                  order=1000)
