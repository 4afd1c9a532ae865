"""Billing: entities (who issues and collects), agreements, invoices and their lines and numbering,
orders and Stripe events, royalty rates; partners get an address and a billing e-mail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from tenants.schema import create_campus_owned_table, drop_campus_owned_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)
STREAMS = ("training", "coworking", "events", "sponsorship", "other")
PROVIDERS = ("stripe", "manual")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, native_enum=False, length=16, name=name)


def upgrade():
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("address", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("billing_email", sa.String(254), nullable=True))
    with op.batch_alter_table("partners") as batch:
        batch.alter_column("address", server_default=None)

    op.create_table(
        "billing_entities",
        sa.Column("id", BigId, sa.Identity(always=False), nullable=False),
        sa.Column("campus_id", BigId, nullable=True),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("vat_number", sa.String(32), nullable=True),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("bic", sa.String(11), nullable=False),
        sa.Column("payment_provider", _enum("paymentprovider", *PROVIDERS), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("vat_rate >= 0 AND vat_rate < 100",
                           name="ck_billing_entities_vat_rate_range"),
        sa.CheckConstraint("payment_terms_days >= 0",
                           name="ck_billing_entities_payment_terms_positive"),
        sa.ForeignKeyConstraint(["campus_id"], ["campuses.id"],
                                name="fk_billing_entities_campus_id_campuses"),
        sa.PrimaryKeyConstraint("id", name="pk_billing_entities"),
        sa.UniqueConstraint("campus_id", name="uq_billing_entities_campus_id"),
        sa.UniqueConstraint("code", name="uq_billing_entities_code"),
    )
    op.create_table(
        "agreements",
        sa.Column("id", BigId, sa.Identity(always=False), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("track_id", BigId, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("fixed_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("instalments", sa.Integer(), nullable=False),
        sa.Column("per_admitted_minor", sa.BigInteger(), nullable=False),
        sa.Column("per_completion_minor", sa.BigInteger(), nullable=False),
        sa.Column("per_certified_minor", sa.BigInteger(), nullable=False),
        sa.Column("trained_target", sa.Integer(), nullable=True),
        sa.Column("certified_target", sa.Integer(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_agreements_dates_in_order"),
        sa.CheckConstraint("instalments >= 1", name="ck_agreements_instalments_positive"),
        sa.CheckConstraint(
            "fixed_fee_minor >= 0 AND per_admitted_minor >= 0 AND per_completion_minor >= 0"
            " AND per_certified_minor >= 0", name="ck_agreements_amounts_not_negative"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"],
                                name="fk_agreements_partner_id_partners"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], name="fk_agreements_track_id_tracks"),
        sa.PrimaryKeyConstraint("id", name="pk_agreements"),
    )
    op.create_table(
        "agreement_campuses",
        sa.Column("agreement_id", BigId, nullable=False),
        sa.Column("campus_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE",
                                name="fk_agreement_campuses_agreement_id_agreements"),
        sa.ForeignKeyConstraint(["campus_id"], ["campuses.id"],
                                name="fk_agreement_campuses_campus_id_campuses"),
        sa.PrimaryKeyConstraint("agreement_id", "campus_id", name="pk_agreement_campuses"),
    )
    op.create_table(
        "invoice_sequences",
        sa.Column("issuer_id", BigId, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["billing_entities.id"],
                                name="fk_invoice_sequences_issuer_id_billing_entities"),
        sa.PrimaryKeyConstraint("issuer_id", "year", name="pk_invoice_sequences"),
    )
    op.create_table(
        "royalty_rates",
        sa.Column("id", BigId, sa.Identity(always=False), nullable=False),
        sa.Column("campus_id", BigId, nullable=False),
        sa.Column("stream", _enum("revenuestream", *STREAMS), nullable=False),
        sa.Column("rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("rate >= 0 AND rate <= 100", name="ck_royalty_rates_rate_range"),
        sa.ForeignKeyConstraint(["campus_id"], ["campuses.id"],
                                name="fk_royalty_rates_campus_id_campuses"),
        sa.PrimaryKeyConstraint("id", name="pk_royalty_rates"),
        sa.UniqueConstraint("campus_id", "stream", name="uq_royalty_rates_campus_id_stream"),
    )
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("campus_id", BigId, nullable=True),
        sa.Column("outcome", sa.String(120), nullable=False),
        sa.Column("received_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["campus_id"], ["campuses.id"],
                                name="fk_stripe_events_campus_id_campuses"),
        sa.PrimaryKeyConstraint("id", name="pk_stripe_events"),
    )
    op.create_table(
        "stripe_customers",
        sa.Column("partner_id", BigId, nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"],
                                name="fk_stripe_customers_partner_id_partners"),
        sa.PrimaryKeyConstraint("partner_id", name="pk_stripe_customers"),
        sa.UniqueConstraint("customer_id", name="uq_stripe_customers_customer_id"),
    )
    create_campus_owned_table(
        "invoices",
        sa.Column("kind", _enum("invoicekind", "partner", "royalty", "credit_note"),
                  nullable=False),
        sa.Column("status", _enum("invoicestatus", "draft", "issued", "paid", "void"),
                  nullable=False),
        sa.Column("issuer_id", BigId, nullable=False),
        sa.Column("number", sa.String(32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("partner_id", BigId, nullable=True),
        sa.Column("agreement_id", BigId, nullable=True),
        sa.Column("credits_invoice_id", BigId, nullable=True),
        sa.Column("run_key", sa.String(120), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("reverse_charge", sa.Boolean(), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("vat_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("issuer_details", sa.JSON(), nullable=False),
        sa.Column("recipient_details", sa.JSON(), nullable=False),
        sa.Column("structured_communication", sa.String(12), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("paid_at", Timestamp, nullable=True),
        sa.Column("paid_by_id", BigId, nullable=True),
        sa.Column("payment_reference", sa.String(120), nullable=False),
        sa.Column("entry_id", BigId, nullable=True),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("total_minor = subtotal_minor + vat_minor",
                           name="ck_invoices_total_adds_up"),
        sa.CheckConstraint("status = 'draft' OR number IS NOT NULL",
                           name="ck_invoices_issued_has_number"),
        sa.UniqueConstraint("campus_id", "number", name="uq_invoices_campus_id_number"),
        sa.UniqueConstraint("campus_id", "run_key", name="uq_invoices_campus_id_run_key"),
        sa.ForeignKeyConstraint(["issuer_id"], ["billing_entities.id"],
                                name="fk_invoices_issuer_id_billing_entities"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"],
                                name="fk_invoices_partner_id_partners"),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"],
                                name="fk_invoices_agreement_id_agreements"),
        sa.ForeignKeyConstraint(["campus_id", "credits_invoice_id"],
                                ["invoices.campus_id", "invoices.id"],
                                name="fk_invoices_campus_id_credits_invoice_id_invoices"),
        sa.ForeignKeyConstraint(["campus_id", "entry_id"],
                                ["revenue_entries.campus_id", "revenue_entries.id"],
                                name="fk_invoices_campus_id_entry_id_revenue_entries"),
        sa.ForeignKeyConstraint(["paid_by_id"], ["users.id"], name="fk_invoices_paid_by_id_users"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name="fk_invoices_created_by_id_users"),
    )
    create_campus_owned_table(
        "invoice_lines",
        sa.Column("invoice_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_invoice_lines_quantity_positive"),
        sa.UniqueConstraint("campus_id", "invoice_id", "position",
                            name="uq_invoice_lines_campus_id_invoice_id_position"),
        sa.ForeignKeyConstraint(["campus_id", "invoice_id"], ["invoices.campus_id", "invoices.id"],
                                name="fk_invoice_lines_campus_id_invoice_id_invoices"),
    )
    create_campus_owned_table(
        "orders",
        sa.Column("purpose", _enum("orderpurpose", "cohort_fee", "membership", "event_ticket",
                                   "invoice"), nullable=False),
        sa.Column("status", _enum("orderstatus", "open", "paid", "refunded", "cancelled"),
                  nullable=False),
        sa.Column("provider", _enum("paymentprovider", *PROVIDERS), nullable=False),
        sa.Column("enrolment_id", BigId, nullable=True),
        sa.Column("membership_id", BigId, nullable=True),
        sa.Column("registration_id", BigId, nullable=True),
        sa.Column("invoice_id", BigId, nullable=True),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("payer_name", sa.String(200), nullable=False),
        sa.Column("payer_email", sa.String(254), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_intent_id", sa.String(255), nullable=True),
        sa.Column("refund_id", sa.String(255), nullable=True),
        sa.Column("payment_reference", sa.String(120), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("entry_id", BigId, nullable=True),
        sa.Column("refund_entry_id", BigId, nullable=True),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("paid_by_id", BigId, nullable=True),
        sa.Column("refunded_by_id", BigId, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("paid_at", Timestamp, nullable=True),
        sa.Column("refunded_at", Timestamp, nullable=True),
        sa.Column("cancelled_at", Timestamp, nullable=True),
        sa.CheckConstraint("amount_minor > 0", name="ck_orders_amount_positive"),
        sa.CheckConstraint(
            "(CASE WHEN enrolment_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN membership_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN registration_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN invoice_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="ck_orders_one_subject"),
        sa.UniqueConstraint("campus_id", "payment_intent_id",
                            name="uq_orders_campus_id_payment_intent_id"),
        sa.ForeignKeyConstraint(["campus_id", "enrolment_id"],
                                ["enrolments.campus_id", "enrolments.id"],
                                name="fk_orders_campus_id_enrolment_id_enrolments"),
        sa.ForeignKeyConstraint(["campus_id", "membership_id"],
                                ["memberships.campus_id", "memberships.id"],
                                name="fk_orders_campus_id_membership_id_memberships"),
        sa.ForeignKeyConstraint(["campus_id", "registration_id"],
                                ["event_registrations.campus_id", "event_registrations.id"],
                                name="fk_orders_campus_id_registration_id_event_registrations"),
        sa.ForeignKeyConstraint(["campus_id", "invoice_id"], ["invoices.campus_id", "invoices.id"],
                                name="fk_orders_campus_id_invoice_id_invoices"),
        sa.ForeignKeyConstraint(["campus_id", "entry_id"],
                                ["revenue_entries.campus_id", "revenue_entries.id"],
                                name="fk_orders_campus_id_entry_id_revenue_entries"),
        sa.ForeignKeyConstraint(["campus_id", "refund_entry_id"],
                                ["revenue_entries.campus_id", "revenue_entries.id"],
                                name="fk_orders_campus_id_refund_entry_id_revenue_entries"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name="fk_orders_created_by_id_users"),
        sa.ForeignKeyConstraint(["paid_by_id"], ["users.id"], name="fk_orders_paid_by_id_users"),
        sa.ForeignKeyConstraint(["refunded_by_id"], ["users.id"],
                                name="fk_orders_refunded_by_id_users"),
    )


def downgrade():
    drop_campus_owned_table("orders")
    drop_campus_owned_table("invoice_lines")
    drop_campus_owned_table("invoices")
    op.drop_table("stripe_customers")
    op.drop_table("stripe_events")
    op.drop_table("royalty_rates")
    op.drop_table("invoice_sequences")
    op.drop_table("agreement_campuses")
    op.drop_table("agreements")
    op.drop_table("billing_entities")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("billing_email")
        batch.drop_column("address")
