"""Application input and output, shared by the HTML pages and the JSON API.

An applicant gives a name, an e-mail, optionally a phone, a motivation text and their consent:
nothing else (no diploma, no prerequisite).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from core.api import PageArgsSchema
from tenants.applications.models import ApplicationStatus
from tenants.cohorts.models import CohortStatus
from tenants.cohorts.schemas import ID_RANGE, CourseBriefSchema
from tenants.learners.schemas import PHONE

MAX_MOTIVATION = 5000
MAX_NOTES = 10_000
DECISIONS = ("interview", "admit", "waitlist", "reject")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(_("This cannot be empty."))


def _strip_blank(data: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(data, dict):
        return data
    return {k: (None if k in keys and isinstance(v, str) and not v.strip() else v)
            for k, v in data.items()}


class ApplicationInputSchema(Schema):
    """What an applicant sends, on the public page or `POST /api/v1/cohorts/<id>/applications`."""

    full_name = fields.String(required=True, validate=[
        validate.Length(min=1, max=200), _not_blank])
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True,
                          validate=[validate.Length(max=32), PHONE])
    motivation = fields.String(required=True, validate=[
        validate.Length(min=1, max=MAX_MOTIVATION,
                        error=_l("Between {min} and {max} characters, please.")),
        _not_blank])
    consent = fields.Boolean(required=True, validate=validate.Equal(
        True, error=_l("We need your consent to process your application.")))

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        return _strip_blank(data, ("phone",))

    @post_load
    def normalise(self, data: dict, **_kwargs) -> dict:
        data["full_name"] = " ".join(data["full_name"].split())
        data["email"] = data["email"].strip().lower()
        data["motivation"] = data["motivation"].strip()
        return data


class ApplicationReceiptSchema(Schema):
    """The answer to an applicant: no personal data echoed back."""

    id = fields.Integer()
    status = fields.Enum(ApplicationStatus, by_value=True)


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(
        DECISIONS, error=_l("Choose one of: {choices}.")))
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=2000))

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        return _strip_blank(data, ("reason",))


class NotesSchema(Schema):
    notes = fields.String(validate=validate.Length(max=MAX_NOTES))
    score = fields.Integer(allow_none=True, validate=validate.Range(
        min=0, max=100, error=_l("A score from {min} to {max}.")))

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        return _strip_blank(data, ("score",))


class ApplicationArgsSchema(PageArgsSchema):
    status = fields.Enum(ApplicationStatus, by_value=True, load_default=None)
    cohort_id = fields.Integer(load_default=None, validate=ID_RANGE)


class ApplicationCohortSchema(Schema):
    id = fields.Integer()
    starts_on = fields.Date()
    status = fields.Enum(CohortStatus, by_value=True)
    course = fields.Nested(CourseBriefSchema)


class ApplicationSchema(Schema):
    """An application as the campus's team sees it."""

    id = fields.Integer()
    cohort_id = fields.Integer()
    cohort = fields.Nested(ApplicationCohortSchema)
    learner_id = fields.Integer(allow_none=True)
    full_name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)
    motivation = fields.String()
    consent_given_at = fields.DateTime()
    status = fields.Enum(ApplicationStatus, by_value=True)
    decision_reason = fields.String(allow_none=True)
    notes = fields.String()
    score = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    waitlisted_at = fields.DateTime(allow_none=True)
