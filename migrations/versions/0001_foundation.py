"""Foundation: campuses, partners, users, API tokens, learners (campus-owned, under RLS).

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from tenants.schema import create_campus_owned_table, drop_campus_owned_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "campuses",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("city", sa.String(120), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("default_locale", sa.String(16), nullable=False),
        sa.Column("status", sa.Enum("planned", "open", "closed", name="campusstatus",
                                    native_enum=False, length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campuses"),
        sa.UniqueConstraint("slug", name="uq_campuses_slug"),
    )
    op.create_table(
        "partners",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("vat_number", sa.String(32), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partners"),
        sa.UniqueConstraint("slug", name="uq_partners_slug"),
    )
    op.create_table(
        "users",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.Enum("hq_admin", "campus_manager", "campus_staff", "partner_contact",
                                  name="role", native_enum=False, length=32), nullable=False),
        sa.Column("campus_id", BigId, nullable=True),
        sa.Column("partner_id", BigId, nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_signed_in_at", Timestamp, nullable=True),
        sa.CheckConstraint(
            "(role IN ('campus_manager', 'campus_staff')) = (campus_id IS NOT NULL)",
            name="ck_users_campus_role_has_campus"),
        sa.CheckConstraint("(role = 'partner_contact') = (partner_id IS NOT NULL)",
                           name="ck_users_partner_role_has_partner"),
        sa.ForeignKeyConstraint(["campus_id"], ["campuses.id"], name="fk_users_campus_id_campuses"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"],
                                name="fk_users_partner_id_partners"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_index("ix_users_campus_id", "users", ["campus_id"])
    op.create_index("ix_users_partner_id", "users", ["partner_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("site_key", sa.String(40), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_api_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    create_campus_owned_table(
        "learners",
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("consent_given_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("campus_id", "email", name="uq_learners_campus_id_email"),
    )


def downgrade():
    drop_campus_owned_table("learners")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("partners")
    op.drop_table("campuses")
