"""Learner input and output, shared by the HTML pages and the JSON API."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, pre_load, validate

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
