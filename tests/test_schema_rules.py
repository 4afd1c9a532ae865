"""Schema rules: ready to spread over Citus (DESIGN.md, "Tenancy"), and migrations = models.

Campus-owned tables are distributed by `campus_id`: it leads their primary key, every foreign key
between two of them and is part of every unique key. Global tables are reference tables: they are
not keyed by campus and do not point into campus-owned tables.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    create_engine,
)

from core.extensions import db
from tenants import campus_owned_tables

GLOBAL_TABLES = ("campuses", "partners", "users", "api_tokens")


def primary_key_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    owned = set(owned)
    problems = [f"{name}: campus-owned but not in the metadata"
                for name in sorted(owned - set(metadata.tables))]
    for table in metadata.sorted_tables:
        keys = [column.name for column in table.primary_key.columns]
        if table.name in owned and keys[:1] != ["campus_id"]:
            problems.append(f"{table.name}: primary key {keys} does not start with campus_id")
        # A global table keyed first by campus is campus data in disguise; an HQ association
        # keyed first by something else (agreement → campuses) is reference data.
        if table.name not in owned and keys[:1] == ["campus_id"]:
            problems.append(f"{table.name}: global table keyed by campus_id first {keys}")
    return problems


def foreign_key_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    owned = set(owned)
    problems = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            target = fk.referred_table.name
            if target not in owned:
                continue
            pairs = [(e.parent.name, e.column.name) for e in fk.elements]
            if table.name not in owned:
                problems.append(f"{table.name}: global table has a foreign key {pairs} into "
                                f"campus-owned {target}")
            elif pairs[0] != ("campus_id", "campus_id"):
                problems.append(f"{table.name}: foreign key {pairs} to {target} does not start "
                                "with campus_id -> campus_id")
    return problems


def unique_key_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    problems = []
    for name in sorted(set(owned) & set(metadata.tables)):
        table = metadata.tables[name]
        keys = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        keys += [i for i in table.indexes if i.unique]
        for key in keys:
            columns = [column.name for column in key.columns]
            if "campus_id" not in columns:
                problems.append(f"{name}: unique key {key.name or columns} lacks campus_id")
    return problems


def citus_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    owned = list(owned)
    return (primary_key_problems(metadata, owned) + foreign_key_problems(metadata, owned)
            + unique_key_problems(metadata, owned))


@pytest.fixture(scope="module")
def owned(sqlite_app) -> list[str]:
    """The campus-owned tables, once the app has imported every model."""
    with sqlite_app.app_context():
        tables = campus_owned_tables()
    assert "learners" in tables
    return tables


def test_campus_id_leads_every_campus_owned_primary_key(owned):
    assert primary_key_problems(db.metadata, owned) == []


def test_foreign_keys_between_campus_owned_tables_lead_with_campus_id(owned):
    assert foreign_key_problems(db.metadata, owned) == []


def test_unique_keys_of_campus_owned_tables_include_campus_id(owned):
    assert unique_key_problems(db.metadata, owned) == []


def test_global_tables_are_not_keyed_by_campus(owned):
    for name in GLOBAL_TABLES:
        assert name in db.metadata.tables
        assert name not in owned
        assert "campus_id" not in db.metadata.tables[name].primary_key.columns


def _owned_table(metadata: MetaData, name: str, *items) -> Table:
    return Table(name, metadata, Column("campus_id", Integer, ForeignKey("campuses.id")),
                 Column("id", Integer), *items)


def test_the_checks_report_a_bad_schema():
    good, bad = MetaData(), MetaData()
    for metadata in (good, bad):
        Table("campuses", metadata, Column("id", Integer, primary_key=True))
    _owned_table(good, "parents", Column("code", String),
                 PrimaryKeyConstraint("campus_id", "id"), UniqueConstraint("campus_id", "code"))
    _owned_table(good, "children", Column("parent_id", Integer),
                 PrimaryKeyConstraint("campus_id", "id"),
                 ForeignKeyConstraint(["campus_id", "parent_id"],
                                      ["parents.campus_id", "parents.id"]))
    assert citus_problems(good, ["parents", "children"]) == []

    _owned_table(bad, "parents", Column("code", String), Column("email", String, unique=True),
                 PrimaryKeyConstraint("id", "campus_id"), UniqueConstraint("code", name="uq_code"))
    _owned_table(bad, "children", Column("parent_id", Integer),
                 PrimaryKeyConstraint("campus_id", "id"),
                 ForeignKeyConstraint(["parent_id", "campus_id"],
                                      ["parents.id", "parents.campus_id"]),
                 Index("ix_children_parent", "parent_id", unique=True))
    Table("keyed_global", bad, Column("campus_id", Integer, primary_key=True))
    Table("pointing_global", bad, Column("id", Integer, primary_key=True),
          Column("campus_id", Integer), Column("parent_id", Integer),
          ForeignKeyConstraint(["campus_id", "parent_id"], ["parents.campus_id", "parents.id"]))
    problems = citus_problems(bad, ["parents", "children", "missing"])
    expected = [
        "missing: campus-owned but not in the metadata",
        "parents: primary key ['id', 'campus_id'] does not start with campus_id",
        "keyed_global: global table keyed by campus_id first",
        "children: foreign key [('parent_id', 'id'), ('campus_id', 'campus_id')] to parents",
        "pointing_global: global table has a foreign key",
        "parents: unique key uq_code lacks campus_id",
        "parents: unique key ['email'] lacks campus_id",
        "children: unique key ix_children_parent lacks campus_id",
    ]
    for text in expected:
        assert any(problem.startswith(text) for problem in problems), (text, problems)
    assert len(problems) == len(expected), problems


def test_migrated_database_matches_the_models(postgres, postgresql_app):
    engine = create_engine(postgres.owner_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True})
            diffs = compare_metadata(context, db.metadata)
            connection.rollback()
    finally:
        engine.dispose()
    # Each item is an op tuple, or a list of them for the column changes of one table.
    flat = [d for diff in diffs for d in (diff if isinstance(diff, list) else [diff])]
    assert flat == []
