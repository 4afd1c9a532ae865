"""Certification award and outcome input and output, shared by the HTML pages and the JSON API."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, pre_load, validate

from core.api import PageArgsSchema
from tenants.enrolments.schemas import POSITIVE_ID, LearnerRefSchema, blank_to_none
from tenants.records.models import OutcomeKind

KINDS = [kind.value for kind in OutcomeKind]
KIND_CHOICE = validate.OneOf(KINDS, error="Choose one of: {choices}.")


def _squeeze(value: str | None) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) else value


class AwardArgsSchema(PageArgsSchema):
    learner_id = fields.Integer(load_default=None, allow_none=True, validate=POSITIVE_ID)
    certification_id = fields.Integer(load_default=None, allow_none=True, validate=POSITIVE_ID)

    @pre_load
    def strip_blanks(self, data: dict, **_kwargs) -> object:
        return blank_to_none(data, ("learner_id", "certification_id"))


class AwardInputSchema(Schema):
    learner_id = fields.Integer(required=True, validate=POSITIVE_ID)
    certification_id = fields.Integer(required=True, validate=POSITIVE_ID)
    awarded_on = fields.Date(required=True)
    credential_url = fields.Url(
        load_default=None, allow_none=True, schemes={"http", "https"},
        validate=validate.Length(max=500),
        error_messages={"invalid": "Enter a web address starting with http:// or https://."},
        metadata={"description": "Where anyone can verify the credential (http or https)."})

    @pre_load
    def strip_blanks(self, data: dict, **_kwargs) -> object:
        if isinstance(data, dict) and isinstance(data.get("credential_url"), str):
            data = {**data, "credential_url": data["credential_url"].strip()}
        return blank_to_none(data, ("learner_id", "certification_id", "awarded_on",
                                    "credential_url"))


class OutcomeArgsSchema(PageArgsSchema):
    learner_id = fields.Integer(load_default=None, allow_none=True, validate=POSITIVE_ID)
    kind = fields.String(load_default=None, allow_none=True, validate=KIND_CHOICE)

    @pre_load
    def strip_blanks(self, data: dict, **_kwargs) -> object:
        return blank_to_none(data, ("learner_id", "kind"))


class OutcomeUpdateSchema(Schema):
    """An outcome's facts; `employer` is required for employed and internship (a service rule)."""

    kind = fields.String(required=True, validate=KIND_CHOICE)
    employer = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=200))
    sector = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
    occurred_on = fields.Date(required=True)
    notes = fields.String(load_default="", validate=validate.Length(max=4000))

    @pre_load
    def strip_blanks(self, data: dict, **_kwargs) -> object:
        data = blank_to_none(data, ("learner_id", "kind", "employer", "sector", "occurred_on"))
        if isinstance(data, dict) and data.get("notes") is None and "notes" in data:
            data = {**data, "notes": ""}
        return data

    @post_load
    def normalise(self, data: dict, **_kwargs) -> dict:
        for key in ("employer", "sector"):
            if key in data:
                data[key] = _squeeze(data[key]) or None
        if "notes" in data:
            data["notes"] = data["notes"].strip()
        return data


class OutcomeInputSchema(OutcomeUpdateSchema):
    learner_id = fields.Integer(required=True, validate=POSITIVE_ID)


class CertificationRefSchema(Schema):
    id = fields.Integer()
    issuer = fields.String()
    exam_code = fields.String()
    name = fields.String()


class AwardSchema(Schema):
    """A certification a learner of this campus earned."""

    id = fields.Integer()
    learner = fields.Nested(LearnerRefSchema)
    certification = fields.Nested(CertificationRefSchema)
    awarded_on = fields.Date()
    credential_url = fields.String(allow_none=True)
    created_at = fields.DateTime()


class OutcomeSchema(Schema):
    """A step on a learner's path to work."""

    id = fields.Integer()
    learner = fields.Nested(LearnerRefSchema)
    kind = fields.Enum(OutcomeKind, by_value=True)
    employer = fields.String(allow_none=True)
    sector = fields.String(allow_none=True)
    occurred_on = fields.Date()
    notes = fields.String()
    created_at = fields.DateTime()
