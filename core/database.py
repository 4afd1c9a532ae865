"""Declarative base, naming conventions and column helpers shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER is an alias of the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def like_pattern(term: str) -> str:
    """`term` as a LIKE pattern matching it anywhere, its wildcards taken literally.

    Use with `escape="\\"`; the term is always a bound parameter, so SQL in it is just text.
    """
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (a callable, so defaults are per row)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware in and out; SQLite stores no offset, so values read back are marked UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use core.database.utcnow()")
        return value

    def process_result_value(self, value: datetime | None, _dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Model(DeclarativeBase):
    # Timezone-aware datetimes everywhere; set on the registry, which Flask-SQLAlchemy reuses.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def configure_sqlite(engine: Engine) -> None:
    """Make the embedded SQLite database behave: foreign keys enforced, real transactions.

    pysqlite opens transactions lazily on its own, which breaks SAVEPOINT; SQLAlchemy's documented
    fix is to turn that off and emit BEGIN ourselves.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA busy_timeout = 5000")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")


def enum_column(enum_class: type[StrEnum], length: int = 32) -> Enum:
    """A string column holding the values of `enum_class` (portable: no native enum type)."""
    return Enum(enum_class, native_enum=False, length=length,
                values_callable=lambda members: [m.value for m in members])


def append_only(models: tuple[type, ...], error: type[Exception], what: str,
                hint: str = "") -> None:
    """Make the ORM refuse to change or delete rows of `models`, one by one or in bulk, in every
    session: `error` is raised before anything reaches the database (migrations add a trigger
    that refuses the same on PostgreSQL). `what` names the rows in the message, e.g.
    "Ledger entries"; `hint` says what to do instead."""
    suffix = f"; {hint}" if hint else ""

    @event.listens_for(Session, "before_flush")
    def _refuse_changes(session: Session, _context, _instances) -> None:
        for obj in session.deleted:
            if isinstance(obj, models):
                raise error(f"{what} are never deleted{suffix}.")
        for obj in session.dirty:
            if isinstance(obj, models) and session.is_modified(obj):
                raise error(f"{what} are never changed{suffix}.")

    @event.listens_for(Session, "do_orm_execute")
    def _refuse_bulk_changes(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete) and any(
                m.class_ in models for m in state.all_mappers):
            raise error(f"{what} are never changed or deleted{suffix}.")
