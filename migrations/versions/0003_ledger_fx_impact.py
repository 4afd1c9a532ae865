"""FX rates and impact targets (global); the revenue ledger and its monthly rollups (campus-owned,
under RLS). On PostgreSQL a trigger makes the ledger append-only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from tenants.schema import create_campus_owned_table, drop_campus_owned_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)
STREAMS = ("training", "coworking", "events", "sponsorship", "other")


def upgrade():
    op.create_table(
        "fx_rates",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rate", sa.Numeric(18, 8), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("rate > 0", name="ck_fx_rates_rate_positive"),
        sa.PrimaryKeyConstraint("id", name="pk_fx_rates"),
        sa.UniqueConstraint("currency", "day", name="uq_fx_rates_currency_day"),
    )
    op.create_table(
        "impact_targets",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("partner_id", BigId, nullable=True),
        sa.Column("track_id", BigId, nullable=True),
        sa.Column("campus_id", BigId, nullable=True),
        sa.Column("trained_target", sa.Integer(), nullable=False),
        sa.Column("certified_target", sa.Integer(), nullable=False),
        sa.Column("positive_outcome_target", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("trained_target >= 0 AND certified_target >= 0",
                           name="ck_impact_targets_targets_positive"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"],
                                name="fk_impact_targets_partner_id_partners"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"],
                                name="fk_impact_targets_track_id_tracks"),
        sa.ForeignKeyConstraint(["campus_id"], ["campuses.id"],
                                name="fk_impact_targets_campus_id_campuses"),
        sa.PrimaryKeyConstraint("id", name="pk_impact_targets"),
    )
    create_campus_owned_table(
        "revenue_entries",
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("stream", sa.Enum(*STREAMS, native_enum=False, length=16, name="stream"),
                  nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("fx_rate", sa.Numeric(18, 8), nullable=False),
        sa.Column("amount_eur_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Enum("payment", "invoice", "manual", native_enum=False, length=16,
                                    name="source"), nullable=False),
        sa.Column("source_key", sa.String(160), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("reverses_id", BigId, nullable=True),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name="ck_revenue_entries_amount_not_zero"),
        sa.UniqueConstraint("campus_id", "source_key",
                            name="uq_revenue_entries_campus_id_source_key"),
        sa.UniqueConstraint("campus_id", "reverses_id",
                            name="uq_revenue_entries_campus_id_reverses_id"),
        sa.ForeignKeyConstraint(["campus_id", "reverses_id"],
                                ["revenue_entries.campus_id", "revenue_entries.id"],
                                name="fk_revenue_entries_campus_id_reverses_id_revenue_entries"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name="fk_revenue_entries_created_by_id_users"),
    )
    op.create_index("ix_revenue_entries_campus_id_occurred_on", "revenue_entries",
                    ["campus_id", "occurred_on"])
    create_campus_owned_table(
        "revenue_rollups",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("stream", sa.Enum(*STREAMS, native_enum=False, length=16, name="stream"),
                  nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_eur_minor", sa.BigInteger(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("campus_id", "month", "stream", "currency",
                            name="uq_revenue_rollups_campus_id_month_stream_currency"),
    )
    op.create_index("ix_revenue_rollups_month", "revenue_rollups", ["month"])
    if op.get_bind().dialect.name == "postgresql":
        # Append-only at the source of truth: no role, not even the owner, edits history.
        op.execute("""
            CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'revenue_entries is append-only: add a reversing entry'
                USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("""
            CREATE TRIGGER revenue_entries_append_only
            BEFORE UPDATE OR DELETE ON revenue_entries
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change()""")
        op.execute("""
            CREATE TRIGGER revenue_entries_no_truncate
            BEFORE TRUNCATE ON revenue_entries
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change()""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS revenue_entries_no_truncate ON revenue_entries")
        op.execute("DROP TRIGGER IF EXISTS revenue_entries_append_only ON revenue_entries")
        op.execute("DROP FUNCTION IF EXISTS refuse_ledger_change()")
    drop_campus_owned_table("revenue_rollups")
    drop_campus_owned_table("revenue_entries")
    op.drop_table("impact_targets")
    op.drop_table("fx_rates")
