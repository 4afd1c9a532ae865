"""The audit log: campus changes in a campus-owned table (under RLS), changes to global rows in a
global one; both append-only: a trigger refuses DELETE, TRUNCATE and any UPDATE, except, for an
erasure of personal data, an UPDATE of the values alone (`before`, `after`) inside a transaction
that asked for it (`app.audit_redaction`, PostgreSQL). SQLite has no such setting: there the
trigger refuses DELETE and any UPDATE of another column than the values.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from tenants.schema import create_campus_owned_table, drop_campus_owned_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)
TABLES = ("audit_entries", "global_audit_entries")
# Every column but the values: an erasure may blank the values, never who, when, what or which.
FIXED = ("id", "campus_id", "recorded_at", "action", "object_type", "object_id", "actor_kind",
         "actor", "actor_user_id", "request_id", "ip")
ACTIONS = ("create", "update", "delete", "redact")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, native_enum=False, length=16, name=name)


def _entry_columns() -> list[sa.Column]:
    return [
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.Column("action", _enum("auditaction", *ACTIONS), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(120), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("actor_kind", _enum("actorkind", "user", "webhook", "cli", "anonymous",
                                      "system"), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("actor_user_id", BigId, nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
    ]


def upgrade():
    create_campus_owned_table("audit_entries", *_entry_columns())
    op.create_index("ix_audit_entries_campus_id_recorded_at", "audit_entries",
                    ["campus_id", "recorded_at"])
    op.create_index("ix_audit_entries_campus_id_object_type", "audit_entries",
                    ["campus_id", "object_type", "object_id"])
    op.create_index("ix_audit_entries_recorded_at", "audit_entries", ["recorded_at"])
    op.create_table(
        "global_audit_entries",
        sa.Column("id", BigId, sa.Identity(always=False), nullable=False),
        sa.Column("campus_id", BigId, nullable=True),
        *_entry_columns(),
        sa.ForeignKeyConstraint(["campus_id"], ["campuses.id"],
                                name="fk_global_audit_entries_campus_id_campuses"),
        sa.PrimaryKeyConstraint("id", name="pk_global_audit_entries"),
    )
    op.create_index("ix_global_audit_entries_recorded_at", "global_audit_entries",
                    ["recorded_at"])
    op.create_index("ix_global_audit_entries_object_type", "global_audit_entries",
                    ["object_type", "object_id"])
    op.create_index("ix_global_audit_entries_campus_id", "global_audit_entries", ["campus_id"])

    if op.get_bind().dialect.name == "postgresql":
        # Append-only for every role, the owner included, as the ledger (0003); the one
        # exception is an erasure's redaction of the values (tenants/audit/privacy.py).
        new = ", ".join(f"NEW.{column}" for column in FIXED)
        old = ", ".join(f"OLD.{column}" for column in FIXED)
        op.execute(f"""
            CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'UPDATE'
                 AND current_setting('app.audit_redaction', true) = 'on'
                 AND ROW({new}) IS NOT DISTINCT FROM ROW({old}) THEN
                RETURN NEW;
              END IF;
              RAISE EXCEPTION '% is append-only: audit entries are never changed or deleted',
                TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for table in TABLES:
            op.execute(f"""
                CREATE TRIGGER {table}_append_only
                BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()""")
            op.execute(f"""
                CREATE TRIGGER {table}_no_truncate
                BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()""")
    else:
        changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in FIXED)
        for table in TABLES:
            op.execute(f"""
                CREATE TRIGGER {table}_append_only_update
                BEFORE UPDATE ON {table} WHEN {changed}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")
            op.execute(f"""
                CREATE TRIGGER {table}_append_only_delete
                BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS refuse_audit_change()")
    else:
        for table in TABLES:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{verb}")
    op.drop_table("global_audit_entries")
    drop_campus_owned_table("audit_entries")
