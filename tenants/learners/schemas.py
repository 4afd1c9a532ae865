"""Learner input and output, shared by the HTML pages and the JSON API."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, post_dump, post_load, pre_load, validate

from tenants.applications.models import ApplicationStatus
from tenants.cohorts.schemas import CourseBriefSchema
from tenants.coworking.models import MembershipStatus, PlanKind
from tenants.enrolments.models import EnrolmentStatus
from tenants.events.models import RegistrationStatus
from tenants.learners.privacy import is_erased
from tenants.records.models import OutcomeKind

PHONE = validate.Regexp(r"^\+?[0-9][0-9 ()./-]{4,30}$", error="Use digits, spaces and + ( ) - . /")


def _blank_to_none(data: dict, keys: tuple[str, ...]) -> dict:
    return {k: (None if k in keys and isinstance(v, str) and not v.strip() else v)
            for k, v in data.items()}


class LearnerInputSchema(Schema):
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True,
                          validate=[validate.Length(max=32), PHONE])
    consent = fields.Boolean(load_default=None, allow_none=True)

    @pre_load
    def strip_blanks(self, data: dict, **_kwargs) -> dict:
        if not isinstance(data, dict):
            return data
        return _blank_to_none(data, ("phone",))

    @post_load
    def normalise(self, data: dict, **_kwargs) -> dict:
        if "full_name" in data:
            data["full_name"] = " ".join(data["full_name"].split())
        if "email" in data:
            data["email"] = data["email"].strip().lower()
        return data


class LearnerSchema(Schema):
    """A learner as the campus's own staff see it."""

    id = fields.Integer()
    full_name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)
    consent_given_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    erased = fields.Function(is_erased, metadata={
        "type": "boolean", "description": "The person's data was erased (anonymised)."})


# --- personal data (GDPR): the export is written for the person it is about ---------------------


class ExportCohortSchema(Schema):
    id = fields.Integer()
    course = fields.Nested(CourseBriefSchema)
    starts_on = fields.Date()
    ends_on = fields.Date()


class ExportLearnerSchema(LearnerSchema):
    updated_at = fields.DateTime()


class ExportConsentSchema(Schema):
    given = fields.Function(lambda learner: learner.consent_given_at is not None,
                            metadata={"type": "boolean"})
    given_at = fields.DateTime(attribute="consent_given_at", allow_none=True)


class ExportApplicationSchema(Schema):
    id = fields.Integer()
    cohort = fields.Nested(ExportCohortSchema)
    full_name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)
    motivation = fields.String()
    consent_given_at = fields.DateTime()
    status = fields.Enum(ApplicationStatus, by_value=True)
    decision_reason = fields.String(allow_none=True)
    notes = fields.String(metadata={"description": "The campus team's notes on the application."})
    score = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    waitlisted_at = fields.DateTime(allow_none=True)


class ExportEnrolmentSchema(Schema):
    id = fields.Integer()
    cohort = fields.Nested(ExportCohortSchema)
    application_id = fields.Integer(allow_none=True)
    status = fields.Enum(EnrolmentStatus, by_value=True)
    attendance_percent = fields.Integer(allow_none=True)
    enrolled_at = fields.DateTime()
    completed_on = fields.Date(allow_none=True)
    dropped_at = fields.DateTime(allow_none=True)


class ExportCertificationSchema(Schema):
    issuer = fields.String()
    exam_code = fields.String()
    name = fields.String()


class ExportAwardSchema(Schema):
    id = fields.Integer()
    certification = fields.Nested(ExportCertificationSchema)
    awarded_on = fields.Date()
    credential_url = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ExportOutcomeSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(OutcomeKind, by_value=True)
    employer = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    occurred_on = fields.Date()
    notes = fields.String()
    created_at = fields.DateTime()


class ExportMembershipSchema(Schema):
    id = fields.Integer()
    plan_name = fields.String(attribute="plan.name")
    plan_kind = fields.Enum(PlanKind, by_value=True, attribute="plan.kind")
    member_name = fields.String()
    member_email = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    status = fields.Enum(MembershipStatus, by_value=True)
    created_at = fields.DateTime()


class ExportCoachingSessionSchema(Schema):
    id = fields.Integer()
    membership_id = fields.Integer()
    coach_name = fields.String(attribute="coach.full_name")
    held_on = fields.Date()
    duration_minutes = fields.Integer()
    notes = fields.String()
    created_at = fields.DateTime()


class ExportEventSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    starts_at = fields.AwareDateTime()


class ExportRegistrationSchema(Schema):
    id = fields.Integer()
    event = fields.Nested(ExportEventSchema)
    full_name = fields.String()
    email = fields.String()
    status = fields.Enum(RegistrationStatus, by_value=True)
    registered_at = fields.AwareDateTime()
    checked_in_at = fields.AwareDateTime(allow_none=True)


class ExportCampusSchema(Schema):
    slug = fields.String()
    name = fields.String()
    city = fields.String()
    country = fields.String()


def _records(name: str, schema: type[Schema]) -> fields.List:
    return fields.List(fields.Nested(schema), attribute=f"records.{name}")


class PersonalDataSchema(Schema):
    """Everything a campus holds about one person (GDPR access and portability), for the campus
    to hand to the person. Other parts of the product add sections (e.g. `orders`)."""

    format = fields.String(metadata={"description": "campusflow.personal-data.v1"})
    exported_at = fields.DateTime()
    campus = fields.Nested(ExportCampusSchema)
    learner = fields.Nested(ExportLearnerSchema)
    consent = fields.Nested(ExportConsentSchema, attribute="records.learner")
    applications = _records("applications", ExportApplicationSchema)
    enrolments = _records("enrolments", ExportEnrolmentSchema)
    certification_awards = _records("awards", ExportAwardSchema)
    outcomes = _records("outcomes", ExportOutcomeSchema)
    coworking_memberships = _records("memberships", ExportMembershipSchema)
    coaching_sessions = _records("coaching_sessions", ExportCoachingSessionSchema)
    event_registrations = _records("registrations", ExportRegistrationSchema)
    orders = fields.List(fields.Dict(), metadata={
        "description": "Orders the person pays or paid (course fees, coworking, event tickets), "
                       "added by billing."})
    audit_log = fields.List(fields.Dict(), metadata={
        "description": "Changes recorded on the person's rows (audit log), added by "
                       "tenants.audit."})

    @post_dump(pass_original=True)
    def add_sections(self, data: dict, original, **_kwargs) -> dict:
        """Every section a higher layer registered, already dumped by its own schema."""
        return {**data, **original.sections}


class ErasureConfirmSchema(Schema):
    """The erase form: the manager ticks that they understand it cannot be undone."""

    confirm = fields.Boolean(required=True, validate=validate.Equal(
        True, error=_l("Tick the box to confirm the erasure.")),
        error_messages={"required": _l("Tick the box to confirm the erasure.")})


class ErasureSchema(Schema):
    learner = fields.Nested(LearnerSchema)
    already_erased = fields.Boolean(metadata={
        "description": "The learner had been erased before; this call changed nothing."})
    anonymised = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Rows anonymised by this call, per kind of record."})
