"""Row-level security reads the campus settings once per query, not once per row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from tenants.rls import policies_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The predicates of 0001 to 0004, for the downgrade.
PER_ROW_CAMPUS = "campus_id = NULLIF(current_setting('app.campus_id', true), '')::bigint"
PER_ROW_HQ_READ = "current_setting('app.all_campuses', true) = 'on'"


def _tables_with_policies() -> list[str]:
    return list(op.get_bind().scalars(sa.text(
        "SELECT tablename FROM pg_policies WHERE policyname = 'campus_isolation' "
        "AND schemaname = current_schema() ORDER BY tablename")))


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tables_with_policies():
        for statement in policies_sql(table):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tables_with_policies():
        for statement in policies_sql(table, PER_ROW_CAMPUS, PER_ROW_HQ_READ):
            op.execute(statement)
