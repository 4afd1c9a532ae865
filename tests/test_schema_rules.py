"""Schema rules: ready to spread over Citus (DESIGN.md, "Tenancy"; docs/scaling.md), and
migrations = models.

Campus-owned tables are distributed by `campus_id`: it leads their primary key, every foreign key
between two of them and is part of every unique key; it has one type everywhere (co-location) and
their generated ids are BIGINT. Global tables are reference tables: they are not keyed by campus
and do not point into campus-owned tables. docs/scaling.md lists every table on one side or the
other, and its SQL distributes each one once, after the tables it points at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    foreign,
    mapped_column,
    relationship,
)

from core.extensions import db
from tenants import campus_owned_tables
from tenants.scoping import CampusOwned, campus_relationship

GLOBAL_TABLES = ("campuses", "partners", "users", "api_tokens")
SCALING_DOC = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"
DISTRIBUTION_COLUMN = "campus_id"


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


def _keys_into_campus_owned(metadata: MetaData, owned: set[str]):
    """(table, its foreign key's column pairs, target) for every key into a campus-owned table."""
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name in owned:
                yield table, [(e.parent.name, e.column.name) for e in fk.elements], \
                    fk.referred_table.name


def campus_foreign_key_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    """Keys between campus-owned tables that do not lead with campus_id -> campus_id."""
    owned = set(owned)
    return [f"{table.name}: foreign key {pairs} to {target} does not start with "
            "campus_id -> campus_id"
            for table, pairs, target in _keys_into_campus_owned(metadata, owned)
            if table.name in owned and pairs[0] != ("campus_id", "campus_id")]


def global_foreign_key_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    """Keys from a global (reference) table into a campus-owned (distributed) one: Citus refuses
    them, a reference row cannot check a row that lives on one node only."""
    owned = set(owned)
    return [f"{table.name}: global table has a foreign key {pairs} into campus-owned {target}"
            for table, pairs, target in _keys_into_campus_owned(metadata, owned)
            if table.name not in owned]


def foreign_key_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    owned = set(owned)
    return (campus_foreign_key_problems(metadata, owned)
            + global_foreign_key_problems(metadata, owned))


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


def column_type_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    """Co-located tables share one distribution column type (that of campuses.id), and Citus
    generates identity values on distributed tables only in BIGINT columns."""
    dialect = postgresql.dialect()
    expected = metadata.tables["campuses"].c.id.type.compile(dialect=dialect)
    problems = []
    for name in sorted(set(owned) & set(metadata.tables)):
        table = metadata.tables[name]
        campus = table.c.get(DISTRIBUTION_COLUMN)
        if campus is None:
            problems.append(f"{name}: no {DISTRIBUTION_COLUMN} column")
        elif (found := campus.type.compile(dialect=dialect)) != expected:
            problems.append(f"{name}: {DISTRIBUTION_COLUMN} is {found}, campuses.id is {expected}")
        for column in table.columns:
            if column.identity is not None and column.type.compile(dialect=dialect) != "BIGINT":
                problems.append(f"{name}: identity column {column.name} is not BIGINT")
    return problems


def citus_problems(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    owned = list(owned)
    return (primary_key_problems(metadata, owned) + foreign_key_problems(metadata, owned)
            + unique_key_problems(metadata, owned) + column_type_problems(metadata, owned))


def relationship_problems(mappers: Iterable[Mapper]) -> list[str]:
    """Relationships between two campus-owned models that do not join on campus_id: loading one
    would join rows of two shards (and, with no campus bound, of two campuses)."""
    problems = []
    for mapper in mappers:
        for rel in mapper.relationships:
            if not (issubclass(mapper.class_, CampusOwned)
                    and issubclass(rel.mapper.class_, CampusOwned)):
                continue
            pairs = {(left.name, right.name) for left, right in rel.local_remote_pairs}
            if (DISTRIBUTION_COLUMN, DISTRIBUTION_COLUMN) not in pairs:
                problems.append(f"{mapper.class_.__name__}.{rel.key}: joins {sorted(pairs)}, "
                                f"not on {DISTRIBUTION_COLUMN}")
    return problems


# ---- the distribution plan (docs/scaling.md) ---------------------------------------------------

CREATE_TABLE = re.compile(
    r"SELECT (?P<function>create_reference_table|create_distributed_table)\('(?P<table>\w+)'"
    r"(?:, '(?P<column>\w+)')?(?:, colocate_with => '(?P<colocate>\w+)')?\);")


def distribution_sql(metadata: MetaData, owned: Iterable[str]) -> list[str]:
    """The statements a DBA runs: reference tables, then campus-owned ones by campus_id, all
    co-located with the first; each after the tables its foreign keys point at."""
    owned = set(owned)
    statements = [f"SELECT create_reference_table('{table.name}');"
                  for table in metadata.sorted_tables if table.name not in owned]
    distributed = [table.name for table in metadata.sorted_tables if table.name in owned]
    for name in distributed:
        colocate = "none" if name == distributed[0] else distributed[0]
        statements.append(f"SELECT create_distributed_table('{name}', '{DISTRIBUTION_COLUMN}', "
                          f"colocate_with => '{colocate}');")
    return statements


def _statement_problem(match: re.Match, owned: set[str], anchor: str | None) -> str | None:
    name, function = match["table"], match["function"]
    if name not in owned:
        if function != "create_reference_table":
            return f"{name}: global table, must be a reference table"
        return None
    if function != "create_distributed_table" or match["column"] != DISTRIBUTION_COLUMN:
        return f"{name}: campus-owned, must be distributed by {DISTRIBUTION_COLUMN}"
    if match["colocate"] != (anchor or "none"):
        return f"{name}: must be co-located with {anchor or 'none (the first one)'}"
    return None


def distribution_problems(statements: Iterable[str], metadata: MetaData,
                          owned: Iterable[str]) -> list[str]:
    """What is wrong with a distribution plan: a table missing, unknown or given twice, on the
    wrong side, not co-located, or distributed before a table its foreign keys point at."""
    owned, done, anchor, problems = set(owned), set(), None, []
    for statement in statements:
        match = CREATE_TABLE.fullmatch(statement.strip())
        name = match["table"] if match else None
        if match is None or name not in metadata.tables or name in done:
            problems.append(f"unknown, repeated or unreadable: {statement.strip()}")
            continue
        if problem := _statement_problem(match, owned, anchor):
            problems.append(problem)
        anchor = anchor or (name if name in owned else None)
        problems += [f"{name}: before {fk.referred_table.name}, which it points at"
                     for fk in metadata.tables[name].foreign_key_constraints
                     if fk.referred_table.name not in done | {name}]
        done.add(name)
    return problems + [f"{name}: not distributed" for name in sorted(set(metadata.tables) - done)]


def doc_section(doc: str, heading: str) -> str:
    """The text under the `## heading…` line of `doc`, up to the next `## ` heading."""
    lines = doc.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    return "\n".join(lines[start + 1:end])


def listed_tables(section: str) -> list[str]:
    """Table names in the first column of a markdown table (`| `name` | …`)."""
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)


def listing_problems(listed: list[str], expected: Iterable[str]) -> list[str]:
    expected = set(expected)
    return ([f"{name}: missing" for name in sorted(expected - set(listed))]
            + [f"{name}: does not belong here" for name in sorted(set(listed) - expected)]
            + [f"{name}: listed twice" for name in sorted(set(listed))
               if listed.count(name) > 1])


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
    assert campus_foreign_key_problems(db.metadata, owned) == []


def test_no_reference_table_has_a_foreign_key_into_a_distributed_table(owned):
    assert global_foreign_key_problems(db.metadata, owned) == []


def test_unique_keys_of_campus_owned_tables_include_campus_id(owned):
    assert unique_key_problems(db.metadata, owned) == []


def test_global_tables_are_not_keyed_by_campus(owned):
    for name in GLOBAL_TABLES:
        assert name in db.metadata.tables
        assert name not in owned
        assert "campus_id" not in db.metadata.tables[name].primary_key.columns


def test_campus_id_has_one_type_and_generated_ids_are_bigint(owned):
    assert column_type_problems(db.metadata, owned) == []


def test_relationships_between_campus_owned_models_join_on_campus_id(sqlite_app):
    with sqlite_app.app_context():
        assert relationship_problems(db.Model.registry.mappers) == []


def test_every_table_is_either_distributed_or_a_reference_table(owned):
    plan = distribution_sql(db.metadata, owned)
    matches = [CREATE_TABLE.fullmatch(statement) for statement in plan]
    assert sorted(match["table"] for match in matches) == sorted(db.metadata.tables)
    assert sorted(match["table"] for match in matches
                  if match["function"] == "create_distributed_table") == sorted(owned)
    assert distribution_problems(plan, db.metadata, owned) == []


def _scaling_doc() -> str:
    return SCALING_DOC.read_text(encoding="utf-8")


def test_scaling_doc_lists_every_campus_owned_table_as_distributed(owned):
    listed = listed_tables(doc_section(_scaling_doc(), "Distributed tables"))
    assert listing_problems(listed, owned) == []


def test_scaling_doc_lists_every_global_table_as_a_reference_table(owned):
    listed = listed_tables(doc_section(_scaling_doc(), "Reference tables"))
    assert listing_problems(listed, set(db.metadata.tables) - set(owned)) == []


def test_scaling_doc_sql_distributes_every_table_once_after_the_tables_it_points_at(owned):
    section = doc_section(_scaling_doc(), "The SQL a DBA runs")
    statements = [line for line in section.splitlines()
                  if line.startswith(("SELECT create_reference_table",
                                      "SELECT create_distributed_table"))]
    problems = distribution_problems(statements, db.metadata, owned)
    assert problems == [], "\n".join([*problems, "", "Generated from the models:",
                                      *distribution_sql(db.metadata, owned)])


def test_row_level_security_is_forced_on_exactly_the_distributed_tables(postgres, postgresql_app,
                                                                        owned):
    engine = create_engine(postgres.owner_url)
    try:
        with engine.connect() as connection:
            secured = connection.execute(text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND c.relrowsecurity AND c.relforcerowsecurity")).scalars().all()
    finally:
        engine.dispose()
    assert sorted(secured) == sorted(owned)


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
    Table("tickets", bad, Column("campus_id", BigInteger, ForeignKey("campuses.id")),
          Column("id", Integer, Identity()), PrimaryKeyConstraint("campus_id", "id"))
    problems = citus_problems(bad, ["parents", "children", "tickets", "missing"])
    expected = [
        "missing: campus-owned but not in the metadata",
        "parents: primary key ['id', 'campus_id'] does not start with campus_id",
        "keyed_global: global table keyed by campus_id first",
        "children: foreign key [('parent_id', 'id'), ('campus_id', 'campus_id')] to parents",
        "pointing_global: global table has a foreign key",
        "parents: unique key uq_code lacks campus_id",
        "parents: unique key ['email'] lacks campus_id",
        "children: unique key ix_children_parent lacks campus_id",
        "tickets: campus_id is BIGINT, campuses.id is INTEGER",
        "tickets: identity column id is not BIGINT",
    ]
    for start in expected:
        assert any(problem.startswith(start) for problem in problems), (start, problems)
    assert len(problems) == len(expected), problems


def test_the_relationship_check_reports_a_join_without_campus_id():
    class Base(DeclarativeBase):
        pass

    class Campus(Base):
        __tablename__ = "campuses"
        id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    class Parent(CampusOwned, Base):
        __tablename__ = "parents"

    class Child(CampusOwned, Base):
        __tablename__ = "children"
        parent_id: Mapped[int] = mapped_column(BigInteger)
        parent = campus_relationship("Child", "Parent", "parent_id", viewonly=True)
        any_campus_parent = relationship(
            Parent, primaryjoin=lambda: foreign(Child.parent_id) == Parent.id, viewonly=True)

    Base.registry.configure()
    assert relationship_problems(Base.registry.mappers) == [
        "Child.any_campus_parent: joins [('parent_id', 'id')], not on campus_id"]


def test_the_distribution_check_reports_a_bad_plan():
    metadata = MetaData()
    Table("campuses", metadata, Column("id", BigInteger, primary_key=True))
    Table("partners", metadata, Column("id", BigInteger, primary_key=True))
    for name in ("parents", "children", "pets"):
        Table(name, metadata, Column("campus_id", BigInteger, ForeignKey("campuses.id")),
              Column("id", BigInteger), Column("parent_id", BigInteger),
              PrimaryKeyConstraint("campus_id", "id"))
    metadata.tables["children"].append_constraint(ForeignKeyConstraint(
        ["campus_id", "parent_id"], ["parents.campus_id", "parents.id"]))
    owned = ["parents", "children", "pets"]
    assert distribution_problems(distribution_sql(metadata, owned), metadata, owned) == []

    plan = [
        "SELECT create_reference_table('campuses');",
        "SELECT create_distributed_table('partners', 'id', colocate_with => 'none');",
        "SELECT create_distributed_table('children', 'campus_id', colocate_with => 'none');",
        "SELECT create_distributed_table('parents', 'campus_id', colocate_with => 'none');",
        "SELECT create_reference_table('campuses');",
        "SELECT create_reference_table('unknown');",
    ]
    assert distribution_problems(plan, metadata, owned) == [
        "partners: global table, must be a reference table",
        "children: before parents, which it points at",
        "parents: must be co-located with children",
        "unknown, repeated or unreadable: SELECT create_reference_table('campuses');",
        "unknown, repeated or unreadable: SELECT create_reference_table('unknown');",
        "pets: not distributed",
    ]


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
