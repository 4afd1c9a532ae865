"""Catalogue (global) and campus operations: cohorts, applications, enrolments, records,
coworking, events (campus-owned, under RLS).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from tenants.schema import create_campus_owned_table, drop_campus_owned_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def status(name: str, *values: str, length: int = 16) -> sa.Column:
    return sa.Column(name, sa.Enum(*values, native_enum=False, length=length, name=name),
                     nullable=False)


def in_campus(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A composite reference inside one campus: (campus_id, column) → target(campus_id, id)."""
    return sa.ForeignKeyConstraint(["campus_id", column], [f"{target}.campus_id", f"{target}.id"],
                                   name=f"fk_{table}_campus_id_{column}_{target}")


def upgrade():
    op.create_table(
        "tracks",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracks"),
        sa.UniqueConstraint("slug", name="uq_tracks_slug"),
    )
    op.create_table(
        "certifications",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("issuer", sa.String(80), nullable=False),
        sa.Column("exam_code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_certifications"),
        sa.UniqueConstraint("exam_code", name="uq_certifications_exam_code"),
    )
    op.create_table(
        "courses",
        sa.Column("id", BigId, sa.Identity(always=False), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("track_id", BigId, nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        status("level", "beginner", "intermediate", "advanced"),
        *[sa.Column(f"title_{lang}", sa.String(200), nullable=lang != "en")
          for lang in ("en", "fr", "nl", "it")],
        *[sa.Column(f"description_{lang}", sa.Text(), nullable=lang != "en")
          for lang in ("en", "fr", "nl", "it")],
        sa.Column("retired_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("hours > 0", name="ck_courses_hours_positive"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], name="fk_courses_track_id_tracks"),
        sa.PrimaryKeyConstraint("id", name="pk_courses"),
        sa.UniqueConstraint("code", name="uq_courses_code"),
    )
    op.create_index("ix_courses_track_id", "courses", ["track_id"])
    op.create_table(
        "course_certifications",
        sa.Column("course_id", BigId, nullable=False),
        sa.Column("certification_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], ondelete="CASCADE",
                                name="fk_course_certifications_course_id_courses"),
        sa.ForeignKeyConstraint(["certification_id"], ["certifications.id"],
                                name="fk_course_certifications_certification_id_certifications"),
        sa.PrimaryKeyConstraint("course_id", "certification_id", name="pk_course_certifications"),
    )

    create_campus_owned_table(
        "cohorts",
        sa.Column("course_id", BigId, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        status("funding", "free", "paid", "sponsored"),
        sa.Column("sponsor_id", BigId, nullable=True),
        status("status", "draft", "open", "running", "finished", "cancelled"),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_cohorts_dates_in_order"),
        sa.CheckConstraint("seats > 0", name="ck_cohorts_seats_positive"),
        sa.CheckConstraint("price_minor >= 0", name="ck_cohorts_price_not_negative"),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name="fk_cohorts_course_id_courses"),
        sa.ForeignKeyConstraint(["sponsor_id"], ["partners.id"],
                                name="fk_cohorts_sponsor_id_partners"),
    )
    op.create_index("ix_cohorts_campus_id_status_starts_on", "cohorts",
                    ["campus_id", "status", "starts_on"])

    create_campus_owned_table(
        "applications",
        sa.Column("cohort_id", BigId, nullable=False),
        sa.Column("learner_id", BigId, nullable=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("motivation", sa.Text(), nullable=False),
        sa.Column("consent_given_at", Timestamp, nullable=False),
        status("status", "submitted", "interview", "admitted", "waitlisted", "rejected",
               "withdrawn"),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("submitted_at", Timestamp, nullable=False),
        sa.Column("decided_at", Timestamp, nullable=True),
        sa.Column("waitlisted_at", Timestamp, nullable=True),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)",
                           name="ck_applications_score_range"),
        in_campus("applications", "cohort_id", "cohorts"),
        in_campus("applications", "learner_id", "learners"),
    )
    op.create_index("ix_applications_campus_id_cohort_id_status", "applications",
                    ["campus_id", "cohort_id", "status"])

    create_campus_owned_table(
        "enrolments",
        sa.Column("cohort_id", BigId, nullable=False),
        sa.Column("learner_id", BigId, nullable=False),
        sa.Column("application_id", BigId, nullable=True),
        status("status", "enrolled", "completed", "dropped"),
        sa.Column("attendance_percent", sa.Integer(), nullable=True),
        sa.Column("enrolled_at", Timestamp, nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("dropped_at", Timestamp, nullable=True),
        sa.CheckConstraint("attendance_percent IS NULL OR attendance_percent BETWEEN 0 AND 100",
                           name="ck_enrolments_attendance_range"),
        in_campus("enrolments", "cohort_id", "cohorts"),
        in_campus("enrolments", "learner_id", "learners"),
        in_campus("enrolments", "application_id", "applications"),
        sa.UniqueConstraint("campus_id", "cohort_id", "learner_id",
                            name="uq_enrolments_campus_id_cohort_id_learner_id"),
    )
    op.create_index("ix_enrolments_campus_id_learner_id", "enrolments", ["campus_id", "learner_id"])

    create_campus_owned_table(
        "certification_awards",
        sa.Column("learner_id", BigId, nullable=False),
        sa.Column("certification_id", BigId, nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("credential_url", sa.String(500), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        in_campus("certification_awards", "learner_id", "learners"),
        sa.ForeignKeyConstraint(["certification_id"], ["certifications.id"],
                                name="fk_certification_awards_certification_id_certifications"),
        sa.UniqueConstraint("campus_id", "learner_id", "certification_id",
                            name="uq_certification_awards_campus_id_learner_id_certification_id"),
    )
    create_campus_owned_table(
        "outcomes",
        sa.Column("learner_id", BigId, nullable=False),
        status("kind", "employed", "internship", "started_business", "further_education",
               length=24),
        sa.Column("employer", sa.String(200), nullable=True),
        sa.Column("sector", sa.String(120), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        in_campus("outcomes", "learner_id", "learners"),
    )

    create_campus_owned_table(
        "membership_plans",
        sa.Column("name", sa.String(120), nullable=False),
        status("kind", "monthly", "day_pass"),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("price_minor >= 0", name="ck_membership_plans_price_not_negative"),
    )
    create_campus_owned_table(
        "memberships",
        sa.Column("plan_id", BigId, nullable=False),
        sa.Column("learner_id", BigId, nullable=True),
        sa.Column("member_name", sa.String(200), nullable=False),
        sa.Column("member_email", sa.String(254), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        status("status", "active", "ended", "cancelled"),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on",
                           name="ck_memberships_dates_in_order"),
        in_campus("memberships", "plan_id", "membership_plans"),
        in_campus("memberships", "learner_id", "learners"),
    )
    create_campus_owned_table(
        "coaching_sessions",
        sa.Column("membership_id", BigId, nullable=False),
        sa.Column("coach_id", BigId, nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("duration_minutes > 0", name="ck_coaching_sessions_duration_positive"),
        in_campus("coaching_sessions", "membership_id", "memberships"),
        sa.ForeignKeyConstraint(["coach_id"], ["users.id"], name="fk_coaching_sessions_coach_id_users"),
    )

    create_campus_owned_table(
        "events",
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", Timestamp, nullable=False),
        sa.Column("ends_at", Timestamp, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        status("status", "scheduled", "cancelled"),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("capacity > 0", name="ck_events_capacity_positive"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_events_times_in_order"),
        sa.CheckConstraint("price_minor >= 0", name="ck_events_price_not_negative"),
    )
    op.create_index("ix_events_campus_id_starts_at", "events", ["campus_id", "starts_at"])
    create_campus_owned_table(
        "event_registrations",
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        status("status", "registered", "cancelled"),
        sa.Column("registered_at", Timestamp, nullable=False),
        sa.Column("checked_in_at", Timestamp, nullable=True),
        in_campus("event_registrations", "event_id", "events"),
        sa.UniqueConstraint("campus_id", "event_id", "email",
                            name="uq_event_registrations_campus_id_event_id_email"),
    )


def downgrade():
    for table in ("event_registrations", "events", "coaching_sessions", "memberships",
                  "membership_plans", "outcomes", "certification_awards", "enrolments",
                  "applications", "cohorts"):
        drop_campus_owned_table(table)
    for table in ("course_certifications", "courses", "certifications", "tracks"):
        op.drop_table(table)
