"""Enrolment input and output, shared by the HTML pages and the JSON API."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_load, validate

from core.api import PageArgsSchema
from tenants.enrolments.models import EnrolmentStatus

STATUSES = [status.value for status in EnrolmentStatus]
POSITIVE_ID = validate.Range(min=1, max=2**63 - 1)


def blank_to_none(data: object, keys: tuple[str, ...]) -> object:
    """Empty form inputs mean "not given" (HTML sends "" for an untouched field)."""
    if not isinstance(data, dict):
        return data
    return {k: (None if k in keys and isinstance(v, str) and not v.strip() else v)
            for k, v in data.items()}


class WholeNumber(fields.Integer):
    """An integer, also from a form's text; 50.5 is refused rather than cut to 50."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class EnrolmentArgsSchema(PageArgsSchema):
    """Filters of the enrolment list (query string)."""

    cohort_id = fields.Integer(load_default=None, allow_none=True, validate=POSITIVE_ID)
    learner_id = fields.Integer(load_default=None, allow_none=True, validate=POSITIVE_ID)
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(STATUSES, error="Choose one of: {choices}."))

    @pre_load
    def strip_blanks(self, data: dict, **_kwargs) -> object:
        return blank_to_none(data, ("cohort_id", "learner_id", "status"))


class AttendanceInputSchema(Schema):
    attendance_percent = WholeNumber(
        required=True, validate=validate.Range(min=0, max=100,
                                               error="Enter a whole number from 0 to 100."))


class CompleteInputSchema(Schema):
    completed_on = fields.Date(load_default=None, allow_none=True,
                               metadata={"description": "Defaults to today (campus time)."})

    @pre_load
    def strip_blanks(self, data: dict, **_kwargs) -> object:
        return blank_to_none(data, ("completed_on",))


class LearnerRefSchema(Schema):
    id = fields.Integer()
    full_name = fields.String()


class EnrolmentSchema(Schema):
    """An enrolment as the campus's own people see it."""

    id = fields.Integer()
    cohort_id = fields.Integer()
    learner = fields.Nested(LearnerRefSchema)
    application_id = fields.Integer(allow_none=True)
    status = fields.Enum(EnrolmentStatus, by_value=True)
    attendance_percent = fields.Integer(allow_none=True)
    enrolled_at = fields.DateTime()
    completed_on = fields.Date(allow_none=True)
    dropped_at = fields.DateTime(allow_none=True)


class DroppedEnrolmentSchema(EnrolmentSchema):
    """The dropped enrolment, and the application admitted into the freed seat, if any."""

    seat_offered_to_application_id = fields.Integer(allow_none=True)
