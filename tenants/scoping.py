"""Campus scoping in the ORM and in the database session.

One binding, kept in a context variable, drives both layers:

* the ORM: every SELECT, UPDATE and DELETE on a campus-owned model gets
  `campus_id = :bound` (`with_loader_criteria`, aliases included); new rows take the bound campus
  and a row for another campus is refused; with nothing bound, a query on a campus-owned model
  raises, unless the caller asked for all campuses explicitly (HQ reporting);
* PostgreSQL: each transaction starts with `app.campus_id` / `app.all_campuses` set locally, which
  the row-level security policies read (see `tenants.rls`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus
from sqlalchemy import ForeignKey, ForeignKeyConstraint, Identity, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    relationship,
    scoped_session,
    with_loader_criteria,
)
from sqlalchemy.sql.util import find_tables

from core.database import BigId


class UnscopedQueryError(RuntimeError):
    """A campus-owned model was queried with no campus bound and no explicit all-campus scope."""


class CrossCampusWriteError(RuntimeError):
    """A row was written for a campus other than the bound one."""


@dataclass(frozen=True)
class Scope:
    campus_id: int | None = None
    all_campuses: bool = False


_UNBOUND = Scope()
_scope: ContextVar[Scope] = ContextVar("campus_scope", default=_UNBOUND)


def current_scope() -> Scope:
    return _scope.get()


def bound_campus_id() -> int | None:
    return _scope.get().campus_id


class CampusOwned:
    """Mixin of every campus-owned model: `campus_id` first in the primary key (Citus-ready)."""

    @declared_attr
    def campus_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("campuses.id"), primary_key=True, sort_order=-100)

    @declared_attr
    def id(cls) -> Mapped[int]:
        # campus_id is the first key column, so `id` must be marked as the generated one.
        return mapped_column(BigId, Identity(), primary_key=True, autoincrement=True,
                             sort_order=-99)


def _sync_database_setting(session: Session | scoped_session | None) -> None:
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_transaction() if session is not None else None
    # A transaction that failed (a flush error) is left for its rollback to end; touching it
    # here would hide the real error behind a PendingRollbackError.
    if transaction is not None and transaction.is_active:
        # The transaction began before the binding (e.g. to look the campus up): apply it now.
        _apply_database_setting(session.connection(), _scope.get())


def _set(scope: Scope, session: Session | scoped_session | None) -> object:
    token = _scope.set(scope)
    _sync_database_setting(session)
    return token


@contextmanager
def campus_scope(campus_id: int, session: Session | None = None) -> Iterator[None]:
    """Bind `campus_id` for the duration of the block."""
    token = _set(Scope(campus_id=campus_id), session)
    try:
        yield
    finally:
        _scope.reset(token)
        _sync_database_setting(session)


@contextmanager
def all_campuses(session: Session | None = None) -> Iterator[None]:
    """Read across every campus (HQ reporting). Row-level security allows reads only."""
    token = _set(Scope(all_campuses=True), session)
    try:
        yield
    finally:
        _scope.reset(token)
        _sync_database_setting(session)


def bind_for_request(scope: Scope, session: Session) -> object:
    """Bind a scope until `unbind(token)`; used by the request hooks."""
    return _set(scope, session)


def unbind(token: object) -> None:
    _scope.reset(token)  # type: ignore[arg-type]


_owned_tables: tuple[int, frozenset[str]] = (-1, frozenset())


def _campus_owned_tables() -> frozenset[str]:
    """Names of the campus-owned tables, computed again only when a model is added."""
    global _owned_tables
    from core.extensions import db

    mappers = db.Model.registry.mappers
    if _owned_tables[0] != len(mappers):
        _owned_tables = (len(mappers), frozenset(
            mapper.local_table.name for mapper in mappers
            if issubclass(mapper.class_, CampusOwned)))
    return _owned_tables[1]


@lru_cache(maxsize=4096)
def _campus_criteria(campus_id: int) -> Any:
    """The ORM criteria of one campus, built once per process (an immutable option; SQLAlchemy
    caches the compiled statements by the lambda's code, with campus_id as a parameter)."""
    return with_loader_criteria(CampusOwned, lambda cls: cls.campus_id == campus_id,
                                include_aliases=True)


def _touches_campus_owned(state: ORMExecuteState) -> bool:
    owned = _campus_owned_tables()
    if any(issubclass(m.class_, CampusOwned) for m in state.all_mappers):
        return True
    # Column-only selects (`select(func.count()).select_from(...)`, subqueries, CTEs) name no
    # mapper; look at the tables the statement actually reads.
    return any(getattr(t, "name", None) in owned
               for t in find_tables(state.statement, include_aliases=True, include_joins=True,
                                    include_selects=True))


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the parent statement already apply to these loads
    scope = _scope.get()
    if scope.campus_id is None:
        if scope.all_campuses and state.is_select:
            return
        if _touches_campus_owned(state):
            raise UnscopedQueryError(
                "Query on a campus-owned model with no campus bound; bind one with "
                "campus_scope() or read across campuses explicitly with all_campuses()."
            )
        return
    # Added to every statement while a campus is bound: it costs nothing where no campus-owned
    # entity appears, and it reaches entities inside subqueries, CTEs and joins.
    state.statement = state.statement.options(_campus_criteria(scope.campus_id))


@event.listens_for(Session, "before_flush")
def _stamp_and_check_campus(session: Session, _context, _instances) -> None:
    # Writes need a bound campus, as row-level security's WITH CHECK does on PostgreSQL.
    campus_id = _scope.get().campus_id
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, CampusOwned):
            continue
        if campus_id is None:
            raise UnscopedQueryError(f"{type(obj).__name__} written with no campus bound")
        if obj.campus_id is None:
            obj.campus_id = campus_id
        elif obj.campus_id != campus_id:
            raise CrossCampusWriteError(
                f"{type(obj).__name__} of campus {obj.campus_id} written while campus "
                f"{campus_id} is bound")


@event.listens_for(Session, "after_begin")
def _set_database_scope(_session: Session, _transaction, connection: Connection) -> None:
    _apply_database_setting(connection, _scope.get())


def _apply_database_setting(connection: Connection, scope: Scope) -> None:
    if connection.dialect.name != "postgresql":
        return
    # LOCAL: the settings end with the transaction, so nothing survives in a pooled connection.
    # SET LOCAL rather than set_config(): Citus forwards SET LOCAL to the workers of a
    # distributed transaction, never a function call (docs/scaling.md). SET takes no bind
    # parameters; the values are an integer and a constant, so nothing user-typed is formatted.
    campus = "" if scope.campus_id is None else str(int(scope.campus_id))
    settings = (f"SET LOCAL app.campus_id = '{campus}'; "
                f"SET LOCAL app.all_campuses = '{'on' if scope.all_campuses else ''}'")
    try:
        _run_at_transaction_start(connection.connection.dbapi_connection, settings)
    except psycopg.Error as error:
        # Straight to psycopg means SQLAlchemy did not see the failure: tell it, as its own
        # statements would. A lost connection is dropped from the pool (not handed out again)
        # and becomes the usual DBAPIError, which the app answers 503 (core/errors.py).
        if connection.connection.dbapi_connection.closed or (
                connection.connection.dbapi_connection.pgconn.status != ConnStatus.OK):
            connection.invalidate(error)
        raise DBAPIError.instance(settings, None, error, psycopg.Error,
                                  connection_invalidated=connection.invalidated) from error


def _run_at_transaction_start(dbapi: Any, settings: str) -> None:
    """Run `settings` as the transaction's first statement, in the round trip that opens it.

    This runs in every transaction. Left to itself, psycopg would send BEGIN in one round trip
    and the settings in a second, which made a scoped list page about 10 % slower than the same
    page unscoped (`make bench`). So, while no transaction is open on the server yet and psycopg
    would open it with a plain BEGIN, the BEGIN travels with the settings; psycopg reads the
    server's transaction status and sends no BEGIN of its own, and COMMIT/ROLLBACK work as ever.
    """
    plain_begin = (not dbapi.autocommit and dbapi.isolation_level is None
                   and dbapi.read_only is None and dbapi.deferrable is None)
    if not (plain_begin and dbapi.pgconn.transaction_status == TransactionStatus.IDLE):
        dbapi.execute(settings)  # psycopg opens the transaction first if it must
        return
    result = dbapi.pgconn.exec_(f"BEGIN; {settings}".encode())
    if result.status != ExecStatus.COMMAND_OK:
        message = (result.error_message or b"").decode(errors="replace").strip()
        raise psycopg.OperationalError(f"could not open a scoped transaction: {message}")


def campus_foreign_key(columns: str | list[str], target: str) -> ForeignKeyConstraint:
    """`(campus_id, <column>) → <target>(campus_id, id)`: a reference inside one campus.

    Citus co-locates rows by campus_id, so every key between campus-owned tables carries it; the
    database then also refuses a reference to another campus's row.
    """
    local = [columns] if isinstance(columns, str) else columns
    return ForeignKeyConstraint(["campus_id", *local], [f"{target}.campus_id", f"{target}.id"])


def campus_relationship(owner: str, target: str, column: str, **kwargs) -> Any:
    """Many-to-one from `owner` to campus-owned `target` over (campus_id, `column`).

    Only `column` is written by the relationship: campus_id belongs to the row's own campus.
    """
    return relationship(
        target,
        primaryjoin=(f"and_({target}.campus_id == {owner}.campus_id, "
                     f"{target}.id == foreign({owner}.{column}))"),
        **kwargs,
    )
