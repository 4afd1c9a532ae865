"""The audit log's filters (pages, CSV export and API alike) and its entries as the API shows
them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.api import PageArgsSchema
from tenants.audit.models import ActorKind, AuditAction

FILTERS = ("actor", "action", "object_type", "object_id", "date_from", "date_to", "campus")


class AuditArgsSchema(PageArgsSchema):
    """Filters of the audit log; all optional, combined with AND. The pages leave out the
    blank fields of their filter form; the API takes what it is sent."""

    class Meta:
        exclude = ("q",)  # the filters below say what to search

    actor = fields.String(load_default=None, validate=validate.Length(max=254), metadata={
        "description": "Part of the actor: an e-mail, `webhook:stripe`, a command"})
    action = fields.String(load_default=None, validate=validate.OneOf(
        [a.value for a in AuditAction], error=_l("Choose one of: {choices}.")))
    object_type = fields.String(load_default=None, validate=validate.Length(max=64), metadata={
        "description": "The changed row's table, e.g. `learners`"})
    object_id = fields.String(load_default=None, validate=validate.Length(max=120))
    date_from = fields.Date(load_default=None, metadata={
        "description": "From this day (the site's timezone: the campus's, UTC on HQ)"})
    date_to = fields.Date(load_default=None, metadata={"description": "To this day, included"})
    campus = fields.String(load_default=None, validate=validate.Length(max=40), metadata={
        "description": "A campus slug (HQ only; a campus site shows its own entries)"})

    @validates_schema
    def dates_in_order(self, data: dict[str, Any], **_kwargs) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(_("The end date comes before the start date."), "date_to")


class AuditEntrySchema(Schema):
    """One entry: who, when, where, what, and the changed columns before and after."""

    id = fields.Integer(metadata={"description": "Unique within `scope`"})
    scope = fields.Function(lambda entry: getattr(entry, "scope", "campus"), metadata={
        "description": "`campus`: a campus's row; `global`: a global row (HQ only)"})
    campus_id = fields.Integer(allow_none=True, metadata={
        "description": "The campus of the row (global rows: the campus it names, if any)"})
    recorded_at = fields.DateTime()
    action = fields.Function(lambda entry: AuditAction(entry.action).value,
                             metadata={"enum": [a.value for a in AuditAction]})
    object_type = fields.String()
    object_id = fields.String()
    before = fields.Dict(allow_none=True, metadata={
        "description": "Changed columns before (null for a create); secrets are \"[redacted]\""})
    after = fields.Dict(allow_none=True, metadata={
        "description": "Changed columns after (null for a delete)"})
    actor_kind = fields.Function(lambda entry: ActorKind(entry.actor_kind).value,
                                 metadata={"enum": [k.value for k in ActorKind]})
    actor = fields.String()
    actor_user_id = fields.Integer(allow_none=True)
    request_id = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
