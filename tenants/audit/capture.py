"""Generic capture: every row the ORM inserts, updates or deletes becomes one audit entry.

Nothing is recorded view by view. After each flush, each changed object yields one entry
(whatever the number of its changed columns) with the changed columns' values before and
after, written with Core INSERTs on the flush's own connection: the entries commit or roll back
with the change. A campus-owned row's entry goes to `audit_entries` (its campus; row-level
security checks it is the bound one), any other row's to `global_audit_entries`.

Not recorded (see EXCLUDED_TABLES, IGNORED_COLUMNS): the audit tables themselves, what is
derived from rows that are recorded, the webhook's delivery log, and bookkeeping columns. Bulk
statements (`update(Model)`, `insert().on_conflict…`) bypass the flush and are not recorded;
the app uses them only for derived tables (rollups, invoice numbering).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import event, insert, inspect, select, tuple_
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import NO_VALUE
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE
from sqlalchemy.orm.state import InstanceState

from core.database import utcnow
from core.extensions import db
from tenants.audit.context import current_actor
from tenants.audit.models import AUDIT_TABLES, AuditAction, AuditEntry, GlobalAuditEntry
from tenants.scoping import CampusOwned

# Tables whose changes are not audit entries, and why.
EXCLUDED_TABLES: dict[str, str] = {
    **{name: "the audit log itself" for name in AUDIT_TABLES},
    "revenue_rollups": "derived: sums of revenue_entries, kept in the same transaction as each "
                       "entry (which is recorded) and rebuilt by `flask ledger rebuild`",
    "invoice_sequences": "derived: the counter behind invoice numbers; each invoice records "
                         "the number it took",
    "stripe_events": "the webhook's own delivery log (event id, type, outcome); the changes an "
                     "event makes are recorded, attributed to webhook:stripe",
}
# Columns that change as a side effect of other work; an update of these alone is no entry.
IGNORED_COLUMNS: dict[str | None, frozenset[str]] = {
    None: frozenset({"created_at", "updated_at"}),  # every table: the entry has its own time
    "users": frozenset({"last_signed_in_at"}),  # every sign-in; not a change to the account
}
# Never stored, before or after: a change shows as "[redacted]" → "[redacted]".
SECRET_COLUMN = re.compile(r"password|secret|_hash$|^hash$|api_key|private_key|signing_key")
REDACTED = "[redacted]"
MAX_TEXT = 10_000  # characters kept of one value (text fields are validated far below this)

_BEFORE = "campusflow.audit.before"


def is_secret(column: str) -> bool:
    return bool(SECRET_COLUMN.search(column))


def jsonable(value: Any) -> Any:
    """`value` as JSON can hold it: enums by value, decimals as strings, dates in ISO 8601."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON has no NaN
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[{len(bytes(value))} bytes]"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _shown(column: str, value: Any) -> Any:
    return REDACTED if value is not None and is_secret(column) else jsonable(value)


def _table(mapper: Mapper) -> str:
    return mapper.local_table.name


def _audited(obj: object) -> bool:
    if not isinstance(obj, db.Model):
        return False
    return _table(inspect(obj).mapper) not in EXCLUDED_TABLES


def _ignored(table: str) -> frozenset[str]:
    return IGNORED_COLUMNS[None] | IGNORED_COLUMNS.get(table, frozenset())


def _column_keys(mapper: Mapper) -> list[str]:
    ignored = _ignored(_table(mapper))
    return [attr.key for attr in mapper.column_attrs if attr.key not in ignored]


def _recorded_keys(state: InstanceState) -> tuple[str, ...]:
    return _recorded_keys_of(state.mapper)


@lru_cache(maxsize=256)
def _recorded_keys_of(mapper: Mapper) -> tuple[str, ...]:
    """The columns an entry shows: not the key (the entry names the object), nor, for a
    campus-owned row, its campus (the entry's own)."""
    hidden = {mapper.get_property_by_column(c).key for c in mapper.primary_key}
    if issubclass(mapper.class_, CampusOwned):
        hidden.add("campus_id")
    return tuple(key for key in _column_keys(mapper) if key not in hidden)


def _collection_keys(mapper: Mapper) -> list[str]:
    """Many-to-many collections (association tables have no model, so no entry of their own:
    the change shows on the owner, e.g. a course's certifications)."""
    return [rel.key for rel in mapper.relationships
            if rel.secondary is not None and not rel.viewonly]


# ---- before the flush: old values the ORM does not know ------------------------------------


def _unknown_old_values(state: InstanceState, deleting: bool) -> list[str]:
    """Columns whose value in the database is not in memory: set without being loaded first,
    or (a row being deleted) never loaded."""
    if deleting:
        return [key for key in _recorded_keys(state) if key not in state.dict
                and state.committed_state.get(key, NO_VALUE) is NO_VALUE]
    return [key for key in _recorded_keys(state)
            if state.committed_state.get(key, None) is NO_VALUE]


def _fetch(session: Session, state: InstanceState, keys: list[str]) -> dict[str, Any]:
    """The stored values of `keys` for `state`'s row (one SELECT on the flush's connection)."""
    mapper = state.mapper
    columns = [mapper.get_property(key).columns[0] for key in keys]
    primary = mapper.primary_key
    identity = state.key[1] if state.key else None
    if identity is None:
        return {}
    row = session.connection().execute(
        select(*columns).where(tuple_(*primary) == tuple_(*identity))).first()
    return dict(zip(keys, row, strict=True)) if row is not None else {}


@event.listens_for(Session, "before_flush")
def _remember_old_values(session: Session, _context, _instances) -> None:
    remembered: dict[InstanceState, dict[str, Any]] = {}
    session.info[_BEFORE] = remembered  # this flush's only
    for deleting, objects in ((False, session.dirty), (True, session.deleted)):
        for obj in objects:
            if not _audited(obj):
                continue
            state = inspect(obj)
            if state.key is None:
                continue
            missing = _unknown_old_values(state, deleting)
            if missing:
                remembered[state] = _fetch(session, state, missing)


@event.listens_for(Session, "after_flush_postexec")
@event.listens_for(Session, "after_rollback")
def _forget_old_values(session: Session, *_args) -> None:
    session.info.pop(_BEFORE, None)


# ---- after the flush: one entry per changed object -----------------------------------------


def _old(state: InstanceState, key: str, remembered: dict[str, Any]) -> Any:
    """The value the database held before this flush."""
    if key in state.committed_state:
        value = state.committed_state[key]
        if value is not NO_VALUE:
            return value
        return remembered.get(key)
    if key in remembered:
        return remembered[key]
    return state.dict.get(key)


def _related_ids(objects) -> list[Any]:
    ids = []
    for related in objects:
        related_state = inspect(related)
        mapper = related_state.mapper
        values = [related_state.dict.get(mapper.get_property_by_column(c).key)
                  for c in mapper.primary_key]
        ids.append(values[0] if len(values) == 1 else values)
    return sorted(ids, key=str)


def _collection_change(state: InstanceState, key: str) -> tuple[list, list] | None:
    history = state.get_history(key, PASSIVE_NO_INITIALIZE)
    if not history.has_changes():
        return None
    before = _related_ids([*history.unchanged, *history.deleted])
    after = _related_ids([*history.unchanged, *history.added])
    return (before, after) if before != after else None


def _created(state: InstanceState) -> tuple[None, dict[str, Any]]:
    after = {key: _shown(key, state.dict[key]) for key in _recorded_keys(state)
             if state.dict.get(key) is not None}
    for key in _collection_keys(state.mapper):
        ids = _related_ids(state.dict.get(key) or [])
        if ids:
            after[key] = ids
    return None, after


def _updated(state: InstanceState, remembered: dict[str, Any]
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _recorded_keys(state):
        if key not in state.committed_state:
            continue  # not set since it was loaded
        old, new = _old(state, key, remembered), state.dict.get(key)
        if old == new:
            continue
        before[key], after[key] = _shown(key, old), _shown(key, new)
    for key in _collection_keys(state.mapper):
        change = _collection_change(state, key)
        if change:
            before[key], after[key] = change
    return before, after


def _deleted(state: InstanceState, remembered: dict[str, Any]) -> tuple[dict[str, Any], None]:
    before = {}
    for key in _recorded_keys(state):
        value = _old(state, key, remembered)
        if value is not None:
            before[key] = _shown(key, value)
    return before, None


def _object_id(state: InstanceState) -> str:
    mapper = state.mapper
    keys = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
    if issubclass(mapper.class_, CampusOwned):
        keys = [k for k in keys if k != "campus_id"]
    return ",".join(str(state.dict.get(k, "")) for k in keys)[:120]


def _concerned_campus(state: InstanceState) -> int | None:
    """The campus a global row is about, when it names one (a campus's user, entity…)."""
    if _table(state.mapper) == "campuses":
        return state.dict.get("id")
    if "campus_id" in state.mapper.column_attrs:
        return state.dict.get("campus_id")
    return None


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _context) -> None:
    remembered_all: dict[InstanceState, dict[str, Any]] = session.info.get(_BEFORE, {})
    changes = []
    for action, objects in ((AuditAction.CREATE, session.new),
                            (AuditAction.UPDATE, session.dirty),
                            (AuditAction.DELETE, session.deleted)):
        for obj in objects:
            if not _audited(obj):
                continue
            state = inspect(obj)
            remembered = remembered_all.get(state, {})
            if action is AuditAction.CREATE:
                before, after = _created(state)
            elif action is AuditAction.UPDATE:
                before, after = _updated(state, remembered)
                if not after:
                    continue  # nothing but ignored columns, or values set to what they were
            else:
                before, after = _deleted(state, remembered)
            changes.append((state, action, before, after))
    if changes:
        _write(session, changes)


def record_entry(obj: object, action: AuditAction, before: dict[str, Any] | None,
                 after: dict[str, Any] | None) -> None:
    """Record an entry about `obj` that no flush makes (e.g. a redaction), by the current actor,
    in the session's transaction."""
    _write(db.session(), [(inspect(obj), action, before, after)])


def _write(session: Session, changes: list) -> None:
    actor = current_actor()
    common = {"recorded_at": utcnow(), "actor_kind": actor.kind, "actor": actor.label,
              "actor_user_id": actor.user_id, "request_id": actor.request_id, "ip": actor.ip}
    campus_rows, global_rows = [], []
    for state, action, before, after in changes:
        row = {**common, "action": action, "object_type": _table(state.mapper),
               "object_id": _object_id(state), "before": before, "after": after}
        if isinstance(state.obj(), CampusOwned):
            campus_rows.append({**row, "campus_id": state.dict["campus_id"]})
        else:
            global_rows.append({**row, "campus_id": _concerned_campus(state)})
    connection = session.connection()
    if campus_rows:
        connection.execute(insert(AuditEntry.__table__), campus_rows)
    if global_rows:
        connection.execute(insert(GlobalAuditEntry.__table__), global_rows)
