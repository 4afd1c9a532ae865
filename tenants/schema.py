"""DDL for campus-owned tables, used by migrations so every such table has the same keys.

PostgreSQL: `PRIMARY KEY (campus_id, id)` with `id` an identity column (Citus-ready).
SQLite only generates ids for a single INTEGER PRIMARY KEY, so there `id` is that key and
`(campus_id, id)` is unique, which still lets composite foreign keys point at it. The ORM maps
`(campus_id, id)` as the key on both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tenants import rls


def create_campus_owned_table(table: str, *columns_and_constraints: sa.SchemaItem) -> None:
    """Create `table` with the campus key columns first, then row-level security on PostgreSQL."""
    dialect = op.get_bind().dialect.name
    campus = sa.Column("campus_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                       sa.ForeignKey("campuses.id", name=f"fk_{table}_campus_id_campuses"),
                       nullable=False)
    if dialect == "sqlite":
        keys = [
            campus,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.UniqueConstraint("campus_id", "id", name=f"uq_{table}_campus_id_id"),
        ]
        options = {"sqlite_autoincrement": True}
    else:
        keys = [
            campus,
            sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
            sa.PrimaryKeyConstraint("campus_id", "id", name=f"pk_{table}"),
        ]
        options = {}
    op.create_table(table, *keys, *columns_and_constraints, **options)
    if dialect == "postgresql":
        for statement in rls.enable_sql(table):
            op.execute(statement)


def drop_campus_owned_table(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.disable_sql(table):
            op.execute(statement)
    op.drop_table(table)
