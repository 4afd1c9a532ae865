"""Moving a campus to another database: `export_campus` writes everything it owns to one JSON
document; `import_campus` loads that document into another database under new ids.

What travels is found from the SQLAlchemy metadata, so a table added later travels with no change
here:

* `campus`: the campus row;
* `tables`: every row of every campus-owned model (`CampusOwned`), read inside the campus's scope
  (never across campuses), without its `campus_id`;
* `attached`: rows of global tables that belong to the campus: rows with a foreign key to it (its
  staff's accounts, its billing entity, royalty rates, impact targets, its place in partner
  agreements, its Stripe events), and rows whose primary key holds a foreign key to one of those
  (the billing entity's invoice sequences, so the campus goes on numbering after its last
  invoice). Staff keep their Argon2 password hash, so they sign in as before; API tokens do not
  travel (a new one is a sign-in away);
* `references`: every other global row these rows point at (a course, a certification, HQ's user
  or billing entity, a partner, an agreement), by natural key: a unique key of its table other
  than the generated id (a course by code, a user by e-mail, a billing entity by code). A table
  with no such key (partner agreements) is matched on every stored field but its timestamps.

Rows keep their old ids in the file. An import creates the campus and inserts every row under a
new id (identity columns number them), rewriting each foreign key through an old → new map per
table, composite `(campus_id, x_id)` keys included. References must already exist in the target
(HQ's catalogue, partners and users are never created from a file) and are found by natural key.
Everything runs in the caller's transaction, campus-owned rows inside the new campus's scope, so
the ORM guard and row-level security check each row; the caller commits or rolls back the whole.

Values keep their exact type: decimals and dates as strings (`"10.85000000"`, ISO 8601),
enumerations as their values, amounts in minor units as integers. Only foreign keys are
rewritten: ids written inside text or documents (an audit entry's `object_id` and values, a
structured communication) stay those of the database they were written in. The import's own
inserts go through the ORM, so the audit log records them like any other change.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Column, Table, UniqueConstraint, func, inspect, or_, select, tuple_
from sqlalchemy import column as column_clause
from sqlalchemy import table as table_clause
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator

from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from core.progress import Advance, Progress, no_progress
from tenants.campuses.models import Campus
from tenants.campuses.services import campus_by_slug, validate_slug
from tenants.scoping import CampusOwned, campus_scope

FORMAT = "campusflow-campus"
VERSION = 1
BATCH = 500  # rows per flush (one INSERT … RETURNING) and per fetch
VERSION_TABLE = "alembic_version"  # Flask-Migrate's

Row = dict[str, Any]
IdMaps = dict[str, dict[Any, Any]]  # table → {old id: new id}


# Progress (core.progress): one stage per table, labelled with its name, counting its rows.


# ---- the schema, read from the metadata ---------------------------------------------------------


@dataclass
class Schema:
    """The tables a campus export knows about, in foreign-key order (parents first)."""

    tables: list[Table]
    owned: list[Table]  # campus-owned
    attached: list[Table]  # global tables whose rows may belong to a campus
    mappers: dict[Table, Mapper]
    campuses: Table
    _foreign_keys: dict[Table, list[tuple[Column, Table]]] = field(default_factory=dict)

    def is_owned(self, table: Table) -> bool:
        return table in self._owned

    def __post_init__(self) -> None:
        self._owned = frozenset(self.owned)

    def foreign_keys(self, table: Table) -> list[tuple[Column, Table]]:
        """(column, table it points at) for each foreign-key column, leaving out the campus
        half of a key between campus-owned rows (always the row's own campus)."""
        if table not in self._foreign_keys:
            pairs = []
            for constraint in sorted(table.foreign_key_constraints, key=lambda c: c.name or ""):
                target = constraint.referred_table
                for element in constraint.elements:
                    if self.is_owned(target) and element.column.name == "campus_id":
                        continue
                    if element.column is not self.identity(target):
                        raise InvalidInput(_(
                            "%(table)s.%(column)s points at %(target)s.%(other)s, which is not "
                            "its key; a campus export cannot follow it.", table=table.name,
                            column=element.parent.name, target=target.name,
                            other=element.column.name))
                    pairs.append((element.parent, target))
            self._foreign_keys[table] = pairs
        return self._foreign_keys[table]

    def identity(self, table: Table) -> Column:
        """The column other rows point at: the primary key without its campus half."""
        columns = [c for c in table.primary_key.columns
                   if not (self.is_owned(table) and c.name == "campus_id")]
        if len(columns) != 1:
            raise InvalidInput(_("Rows point at %(table)s by a key of several columns; a campus "
                                 "export cannot follow them.", table=table.name))
        return columns[0]

    def attribute(self, column: Column) -> str:
        return self.mappers[column.table].get_property_by_column(column).key

    def points_at_campuses(self, column: Column) -> bool:
        return any(fk.column.table is self.campuses for fk in column.foreign_keys)

    def weak_parent(self, table: Table) -> Column | None:
        """The primary-key column of `table` pointing at an attached table: its owner row."""
        for column in table.primary_key.columns:
            for fk in column.foreign_keys:
                if fk.column.table in self.attached:
                    return column
        return None


_schema_cache: dict[tuple[int, int], Schema] = {}


def schema() -> Schema:
    """The schema of the loaded models, computed again only when a model is added."""
    mappers = db.Model.registry.mappers
    key = (id(db.metadata), len(mappers))
    if key not in _schema_cache:
        by_table = {m.local_table: m for m in mappers if m.inherits is None}
        owned_set = {m.local_table for m in mappers if issubclass(m.class_, CampusOwned)}
        tables = list(db.metadata.sorted_tables)
        result = Schema(tables, [t for t in tables if t in owned_set], [], by_table,
                        Campus.__table__)
        for table in tables:
            if table in owned_set or table is result.campuses:
                continue
            if any(result.points_at_campuses(c) for c in table.columns) \
                    or result.weak_parent(table) is not None:
                result.attached.append(table)
        _schema_cache.clear()
        _schema_cache[key] = result
    return _schema_cache[key]


def _generated(table: Table) -> Column | None:
    """The column the database numbers (an identity); an import leaves it to the target."""
    return table.autoincrement_column


def _unique_sets(table: Table) -> list[tuple[Column, ...]]:
    sets = [tuple(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    sets += [tuple(i.columns) for i in table.indexes if i.unique]
    if _generated(table) is None:
        sets.append(tuple(table.primary_key.columns))
    return list(dict.fromkeys(sets))


def natural_key(table: Table) -> tuple[list[Column], bool]:
    """Columns that find a global row in another database, and whether they are a unique key.

    The unique key holding neither the generated id nor a campus, with the fewest foreign keys
    and then the fewest columns; with none, every stored field but timestamps and documents.
    """
    shape = schema()
    generated = _generated(table)
    candidates = [cols for cols in _unique_sets(table)
                  if generated not in cols and not any(shape.points_at_campuses(c) for c in cols)]
    if candidates:
        best = min(candidates, key=lambda cols: (sum(bool(c.foreign_keys) for c in cols),
                                                 len(cols), [c.name for c in cols]))
        return list(best), True
    fields = [c for c in table.columns if c is not generated and _is_plain_field(c)]
    if not fields:
        raise InvalidInput(_("Rows of %(table)s cannot be found in another database: the table "
                             "has no unique key and no plain field.", table=table.name))
    return fields, False


def _is_plain_field(column: Column) -> bool:
    stamped = column.onupdate is not None or (column.default is not None
                                              and column.default.is_callable)
    return not stamped and _python_type(column) not in (object, bytes, dict, list)


# ---- values -------------------------------------------------------------------------------------


def _python_type(column: Column) -> type:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    try:
        return type_.python_type
    except NotImplementedError:
        return object


def encode(value: Any) -> Any:
    """A column's value as JSON, exactly; the column's type reads it back (`decode`)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def decode(column: Column, value: Any) -> Any:
    """The value `encode` wrote, typed for `column`; raises ValueError for a wrong kind."""
    if value is None:
        return None
    kind = _python_type(column)
    if issubclass(kind, Enum):
        return kind(value)
    expected, convert = _PARSERS.get(kind, (object, lambda v: v))
    if not isinstance(value, expected) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"expected {kind.__name__}")
    return convert(value)


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise ValueError("not a decimal") from error


_PARSERS: dict[type, tuple[type | tuple[type, ...], Callable[[Any], Any]]] = {
    datetime: (str, _aware),
    date: (str, date.fromisoformat),
    Decimal: (str, _decimal),
    int: (int, int),
    bool: (bool, bool),
    float: ((int, float), float),
    str: (str, str),
    bytes: (str, base64.b64decode),
}


def _encode_row(columns: list[Column], values: Any) -> Row:
    return {c.name: encode(v) for c, v in zip(columns, values, strict=True)}


# ---- export -------------------------------------------------------------------------------------


def schema_revision() -> str | None:
    """The Alembic revision of the database (None when it was not migrated)."""
    connection = db.session.connection()
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    heads = connection.execute(select(column_clause("version_num")).select_from(
        table_clause(VERSION_TABLE))).scalars().all()
    return ",".join(sorted(heads)) or None


@dataclass
class _Export:
    campus: Campus
    shape: Schema
    carried: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    wanted: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))

    def point_at(self, table: Table, row: Row) -> None:
        """Note the global rows `row` points at; refuse a pointer to another campus."""
        for column, target in self.shape.foreign_keys(table):
            value = row.get(column.name)
            if value is None or self.shape.is_owned(target):
                continue
            if target is self.shape.campuses:
                if value != self.campus.id:
                    raise Conflict(_("%(table)s.%(column)s points at another campus (id "
                                     "%(id)s); a campus export never carries another campus's "
                                     "rows.", table=table.name, column=column.name, id=value),
                                   code="foreign_campus")
            else:
                self.wanted[target.name].add(value)


def export_campus(slug: str, progress: Progress = no_progress) -> dict[str, Any]:
    """Everything campus `slug` owns, as a JSON-ready document (`campusflow-campus`, version 1).

    Reads only. Raises NotFound for an unknown slug, Conflict `foreign_campus` when one of its
    rows points at another campus, InvalidInput when a key of the schema cannot be followed.
    """
    campus = campus_by_slug(slug)
    if campus is None:
        raise NotFound(_("No campus with slug %(slug)s.", slug=slug))
    shape = schema()
    state = _Export(campus, shape)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "schema_revision": schema_revision(),
        "exported_at": datetime.now(UTC).isoformat(),
        "campus": {c.name: encode(getattr(campus, shape.attribute(c)))
                   for c in shape.campuses.columns},
    }
    attached = {table.name: _read_attached(table, state, progress) for table in shape.attached}
    with campus_scope(campus.id, db.session):
        document["tables"] = {table.name: _read_owned(table, state, progress)
                              for table in shape.owned}
    document["attached"] = attached
    for table in shape.attached:
        for row in attached[table.name]:
            state.point_at(table, row)
    document["references"] = _read_references(state)
    return document


def _read_owned(table: Table, state: _Export, progress: Progress) -> list[Row]:
    shape, model = state.shape, state.shape.mappers[table].class_
    columns = [c for c in table.columns if c.name != "campus_id"]
    mine = model.campus_id == state.campus.id  # the scope's criteria say it too
    total = db.session.scalar(select(func.count()).select_from(model).where(mine))
    query = (select(*[getattr(model, shape.attribute(c)) for c in columns]).where(mine)
             .order_by(*[getattr(model, shape.attribute(c)) for c in table.primary_key.columns])
             .execution_options(yield_per=BATCH))
    rows: list[Row] = []
    with progress(table.name, total or 0) as advance:
        for part in db.session.execute(query).partitions():
            for values in part:
                row = _encode_row(columns, values)
                state.point_at(table, row)
                rows.append(row)
            advance(len(part))
    return rows


def _read_attached(table: Table, state: _Export, progress: Progress) -> list[Row]:
    """The campus's rows of a global table: pointing at the campus, or at one of its rows."""
    shape, columns = state.shape, list(table.columns)
    conditions = [c == state.campus.id for c in columns if shape.points_at_campuses(c)]
    parent = shape.weak_parent(table)
    if not conditions and parent is not None:
        (fk,) = parent.foreign_keys
        conditions = [parent.in_(sorted(state.carried[fk.column.table.name]))]
    rows = [_encode_row(columns, values) for values in db.session.execute(
        select(*columns).where(or_(*conditions)).order_by(*table.primary_key.columns))]
    with progress(table.name, len(rows)) as advance:
        advance(len(rows))
    if (generated := _generated(table)) is not None:
        state.carried[table.name].update(row[generated.name] for row in rows)
    return rows


def _read_references(state: _Export) -> dict[str, list[Row]]:
    """Natural keys of the global rows pointed at that do not travel whole. Children first, so
    that a key's own pointers (an agreement's partner) are noted before their table is read."""
    references: dict[str, list[Row]] = {}
    for table in reversed(state.shape.tables):
        ids = sorted(state.wanted.get(table.name, set()) - state.carried.get(table.name, set()))
        if not ids:
            continue
        columns, _unique = natural_key(table)
        identity = state.shape.identity(table)
        keys = {values[0]: values[1:] for values in db.session.execute(
            select(identity, *columns).where(identity.in_(ids)))}
        entries = []
        for old in ids:
            if old not in keys:
                raise InvalidInput(_("A row points at %(table)s %(id)s, which does not exist.",
                                     table=table.name, id=old))
            key = _encode_row(columns, keys[old])
            state.point_at(table, key)
            entries.append({"id": encode(old), "key": key})
        references[table.name] = entries
    return dict(sorted(references.items()))


def row_counts(document: dict[str, Any]) -> dict[str, int]:
    """Rows per table of a document: campus-owned tables, then attached global ones."""
    counts = {name: len(rows) for name, rows in document["tables"].items()}
    counts.update({name: len(rows) for name, rows in document["attached"].items()})
    return counts


def write_document(document: dict[str, Any], path: Path) -> None:
    """Write `document` to `path` whole or not at all, readable by its owner only: it holds
    learners' personal data and staff password hashes."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(document, file, ensure_ascii=False, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # mkstemp made it 0600
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_document(path: Path) -> Any:
    """The JSON in `path`; raises InvalidInput (`invalid_file`) when it is not JSON."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _invalid(_("%(path)s is not a campus export (not JSON: %(error)s).",
                         path=str(path), error=str(error))) from error
    except OSError as error:
        raise _invalid(_("%(path)s cannot be read (%(error)s).", path=str(path),
                         error=error.strerror or str(error))) from error


# ---- checking a document ------------------------------------------------------------------------


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_file")


def _section(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise _invalid(_("The file has no %(section)s section: it is not a campus export, or it "
                         "was damaged.", section=name))
    return value


def check_document(document: Any) -> None:
    """Refuse (InvalidInput, code `invalid_file`) anything but a version-1 campus export made
    at this database's schema revision, with exactly this schema's tables and columns."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _invalid(_("This file is not a Campusflow campus export."))
    if document.get("version") != VERSION:
        raise _invalid(_("Campus export version %(version)s is not supported (this Campusflow "
                         "reads version %(supported)s).", version=document.get("version"),
                         supported=VERSION))
    revision = schema_revision()
    if document.get("schema_revision") != revision:
        raise _invalid(_("The file was exported from a database at schema revision %(file)s; "
                         "this one is at %(here)s. Migrate both to the same revision first.",
                         file=document.get("schema_revision"), here=revision))
    shape = schema()
    _check_rows(shape, shape.campuses, [_section(document, "campus")])
    for name, expected in (("tables", shape.owned), ("attached", shape.attached)):
        section = _section(document, name)
        if set(section) != {t.name for t in expected}:
            raise _invalid(_("The file's %(section)s (%(found)s) are not this schema's "
                             "(%(expected)s).", section=name, found=", ".join(sorted(section)),
                             expected=", ".join(t.name for t in expected)))
        for table in expected:
            _check_rows(shape, table, section[table.name])
    for name, entries in _section(document, "references").items():
        if name not in db.metadata.tables or not isinstance(entries, list) or not all(
                isinstance(e, dict) and "id" in e and isinstance(e.get("key"), dict)
                for e in entries):
            raise _invalid(_("The file's references to %(table)s are not readable.", table=name))


def _check_rows(shape: Schema, table: Table, rows: Any) -> None:
    expected = {c.name for c in table.columns}
    if shape.is_owned(table):
        expected.discard("campus_id")
    if not isinstance(rows, list):
        raise _invalid(_("The file's %(table)s are not a list of rows.", table=table.name))
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or set(row) != expected:
            raise _invalid(_("Row %(number)d of %(table)s does not have this schema's columns.",
                             number=number, table=table.name))


def _decode(table: Table, column: Column, value: Any, where: str) -> Any:
    try:
        return decode(column, value)
    except (ValueError, TypeError) as error:
        raise _invalid(_("%(where)s: %(table)s.%(column)s holds %(value)s, which is not valid "
                         "(%(error)s).", where=where, table=table.name, column=column.name,
                         value=repr(value)[:80], error=str(error))) from error


# ---- import -------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    campus: Campus
    counts: dict[str, int]  # rows inserted per table
    references: dict[str, int]  # global rows found by natural key, per table
    id_maps: IdMaps  # table → {old id: new id}, campuses included


def import_campus(document: Any, *, as_slug: str | None = None,
                  progress: Progress = no_progress) -> ImportResult:
    """Create the campus of `document` (named `as_slug` if given) with everything it owns.

    Flushes, never commits: the caller commits the whole or rolls it back (a flush the
    database refused is rolled back here, the transaction being unusable). Raises InvalidInput
    `invalid_file` for anything but a sound export of this schema; Conflict `campus_exists` when
    the slug is taken here, `missing_references` naming every global row it points at that is
    not here, `already_exists` naming its global rows already here (a staff e-mail, the billing
    entity's code).
    """
    check_document(document)
    shape = schema()
    slug = as_slug if as_slug is not None else document["campus"]["slug"]
    if not isinstance(slug, str):
        raise _invalid(_("The file's campus has no slug."))
    if problems := validate_slug(slug):
        raise InvalidInput(" ".join(problems), {"slug": problems})
    if campus_by_slug(slug) is not None:
        raise Conflict(_("A campus with slug %(slug)s already exists here; nothing was "
                         "imported. Import it under another slug with --as-slug.", slug=slug),
                       {"slug": [_("Already taken.")]}, code="campus_exists")
    old_campus = _decode(shape.campuses, shape.campuses.c.id, document["campus"]["id"], "campus")
    maps: IdMaps = defaultdict(dict)
    found = _resolve_references(shape, document["references"], maps)
    _refuse_clashes(shape, document["attached"])
    campus = _insert_campus(shape, document["campus"], slug)
    maps[shape.campuses.name][old_campus] = campus.id
    rows_of = {**document["tables"], **document["attached"]}
    counts: dict[str, int] = {}
    with campus_scope(campus.id, db.session):
        try:
            for table in shape.tables:
                if table.name in rows_of:
                    inserter = _Inserter(shape, table, maps, campus.id)
                    counts[table.name] = inserter.insert_all(rows_of[table.name], progress)
        except StatementError as error:
            # A failed flush leaves the transaction unusable, even to leave the scope.
            db.session.rollback()
            if isinstance(error, DBAPIError) and not isinstance(error, IntegrityError | DataError):
                raise  # the database failed, not the file
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise _invalid(_("The file's rows do not fit this database; nothing was imported "
                             "(%(error)s).", error=reason)) from error
    counts = {t.name: counts[t.name] for t in (*shape.owned, *shape.attached)}
    return ImportResult(campus, counts, found, {name: dict(m) for name, m in maps.items()})


def _describe(table: Table, key: Row) -> str:
    shown = [f"{name}={value}" for name, value in key.items()
             if value is not None and not table.c[name].foreign_keys]
    more = ", …" if len(shown) > 4 else ""
    return f"{table.name} ({', '.join(shown[:4])}{more})"


def _resolve_references(shape: Schema, references: dict[str, list[Row]],
                        maps: IdMaps) -> dict[str, int]:
    """Find every referenced global row by its natural key; refuse naming all that are not
    here (or that several rows match)."""
    missing: list[str] = []
    found: dict[str, int] = {}
    for table in shape.tables:  # parents first: their new ids map a child's key
        identity = shape.identity(table) if references.get(table.name) else None
        for entry in references.get(table.name, []):
            old = _decode(table, identity, entry["id"], "references")
            conditions = _key_conditions(table, entry["key"], maps)
            matches = [] if conditions is None else db.session.scalars(
                select(identity).where(*conditions).limit(2)).all()
            if len(matches) == 1:
                maps[table.name][old] = matches[0]
                found[table.name] = found.get(table.name, 0) + 1
            else:
                missing.append(_describe(table, entry["key"])
                               + (_(" (several rows match)") if matches else ""))
    if missing:
        raise Conflict(_("These rows the campus points at are not in this database; create them "
                         "first (nothing was imported): %(rows)s.", rows="; ".join(missing)),
                       {"references": missing}, code="missing_references")
    return found


def _key_conditions(table: Table, key: Row, maps: IdMaps) -> list | None:
    """WHERE conditions finding the row of `key`; None when it points at a row not found."""
    conditions = []
    for name, raw in key.items():
        if name not in table.c:
            raise _invalid(_("The file finds %(table)s rows by %(column)s, a column this schema "
                             "does not have.", table=table.name, column=name))
        column = table.c[name]
        value = _decode(table, column, raw, "references")
        if value is not None and column.foreign_keys:
            (fk,) = column.foreign_keys
            value = maps[fk.column.table.name].get(value)
            if value is None:
                return None
        conditions.append(column.is_(None) if value is None else column == value)
    return conditions


def _refuse_clashes(shape: Schema, attached: dict[str, list[Row]]) -> None:
    """Refuse attached rows whose unique values are taken here (a staff e-mail, a billing
    entity's code, a Stripe event id): they cannot belong to two campuses."""
    clashes: list[str] = []
    for table in shape.attached:
        rows = attached[table.name]
        for columns in _unique_sets(table):
            if rows and not any(c.foreign_keys or c is _generated(table) for c in columns):
                clashes += _taken(table, columns, rows)
    if clashes:
        raise Conflict(_("These rows of the campus already exist in this database (nothing was "
                         "imported): %(rows)s.", rows="; ".join(clashes)),
                       {"attached": clashes}, code="already_exists")


def _taken(table: Table, columns: tuple[Column, ...], rows: list[Row]) -> list[str]:
    values = sorted({tuple(_decode(table, c, row[c.name], table.name) for c in columns)
                     for row in rows} - {(None,) * len(columns)}, key=repr)
    taken = []
    for start in range(0, len(values), BATCH):
        chunk = values[start:start + BATCH]
        condition = (tuple_(*columns).in_(chunk) if len(columns) > 1
                     else columns[0].in_([v[0] for v in chunk]))
        for found in db.session.execute(select(*columns).where(condition)):
            pairs = zip(columns, found, strict=True)
            taken.append(f"{table.name} ({', '.join(f'{c.name}={encode(v)}' for c, v in pairs)})")
    return taken


def _insert_campus(shape: Schema, row: Row, slug: str) -> Campus:
    table = shape.campuses
    values = {shape.attribute(c): _decode(table, c, row[c.name], "campus")
              for c in table.columns if c is not _generated(table)}
    values["slug"] = slug
    campus = Campus(**values)
    db.session.add(campus)
    db.session.flush()
    return campus


@dataclass
class _Inserter:
    """Inserts one table's rows under new ids and records old → new in `maps`."""

    shape: Schema
    table: Table
    maps: IdMaps
    campus_id: int
    pending: list[tuple[Any, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.generated = _generated(self.table)
        self.mapper = self.shape.mappers.get(self.table)
        self.self_keys = [c.name for c, target in self.shape.foreign_keys(self.table)
                          if target is self.table]

    def insert_all(self, rows: list[Row], progress: Progress) -> int:
        with progress(self.table.name, len(rows)) as advance:
            self.advance: Advance = advance
            unflushed: set[Any] = set()
            for number, row in self._referenced_first(rows):
                if any(row[name] in unflushed for name in self.self_keys):
                    self.flush()  # the row it points at needs its new id first
                if not self.pending:
                    unflushed.clear()
                old = row[self.generated.name] if self.generated is not None else None
                self.add(old, self.values(row, number))
                unflushed.add(old)
            self.flush()
        return len(rows)

    def values(self, row: Row, number: int) -> dict[str, Any]:
        where = _("row %(number)d of %(table)s", number=number, table=self.table.name)
        values = {}
        owned_campus = {"campus_id"} if self.shape.is_owned(self.table) else set()
        for column in self.table.columns:
            if column is self.generated:
                continue
            if column.name in owned_campus:
                values[column.name] = self.campus_id
            else:
                values[column.name] = _decode(self.table, column, row[column.name], where)
        for column, target in self.shape.foreign_keys(self.table):
            old = values[column.name]
            if old is not None and column.name not in owned_campus:
                values[column.name] = self.maps[target.name].get(old)
                if values[column.name] is None:
                    raise _invalid(_("%(where)s: %(column)s = %(value)s points at no %(target)s "
                                     "row of the file.", where=where, column=column.name,
                                     value=old, target=target.name))
        return values

    def add(self, old: Any, values: dict[str, Any]) -> None:
        if self.mapper is None:  # an association table: nothing points at its rows
            db.session.execute(self.table.insert().values(**values))
            self.advance(1)
            return
        attributes = {self.shape.attribute(self.table.c[name]): value
                      for name, value in values.items()}
        obj = self.mapper.class_(**attributes)
        db.session.add(obj)
        self.pending.append((old, obj))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        db.session.flush()
        key = None if self.generated is None else self.shape.attribute(self.generated)
        for old, obj in self.pending:
            if key is not None:
                self.maps[self.table.name][old] = getattr(obj, key)
            db.session.expunge(obj)
        self.advance(len(self.pending))
        self.pending.clear()

    def _referenced_first(self, rows: list[Row]) -> list[tuple[int, Row]]:
        """Rows numbered from 1 in file order, each after the row of its own table it points
        at (a reversal after its entry, a credit note after its invoice)."""
        numbered = list(enumerate(rows, start=1))
        if not self.self_keys or self.generated is None:
            return numbered
        name = self.generated.name
        by_id = {row[name]: (number, row) for number, row in numbered}
        placed: set[Any] = set()
        ordered: list[tuple[int, Row]] = []

        def place(number: int, row: Row, path: frozenset) -> None:
            if row[name] in placed:
                return
            if row[name] in path:
                raise _invalid(_("Rows of %(table)s point at each other in a circle.",
                                 table=self.table.name))
            for key in self.self_keys:
                if row[key] in by_id:
                    place(*by_id[row[key]], path | {row[name]})
            placed.add(row[name])
            ordered.append((number, row))

        for number, row in numbered:
            place(number, row, frozenset())
        return ordered
