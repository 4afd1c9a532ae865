"""Impact report arguments and output (counts only), and impact target input and output.

Partners, tracks and campuses are named by their slugs, in and out, as in the report's filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from billing.impact.services import GROUP_BY

SLUG = validate.Length(min=1, max=40)
MAX_TARGET = 10_000_000
TARGET_RANGE = validate.Range(min=0, max=MAX_TARGET,
                              error=_l("Enter a whole number between {min} and {max}."))
SCOPE = ("partner", "track", "campus")


def _blank_to_none(data: Any, keys: tuple[str, ...]) -> Any:
    """Empty form fields and query parameters (`""`) mean "any", not an unknown slug."""
    if not isinstance(data, Mapping):
        return data
    return {k: (None if k in keys and isinstance(v, str) and not v.strip() else v)
            for k, v in data.items()}


class ImpactArgsSchema(Schema):
    """Filters of the impact report: each a slug, or absent for every one."""

    partner = fields.String(load_default=None, allow_none=True, validate=SLUG,
                            metadata={"description": "Sponsoring partner's slug"})
    track = fields.String(load_default=None, allow_none=True, validate=SLUG,
                          metadata={"description": "Track slug (of the cohort's course)"})
    campus = fields.String(load_default=None, allow_none=True, validate=SLUG,
                           metadata={"description": "Campus slug"})
    group_by = fields.String(load_default="campus", validate=validate.OneOf(
        GROUP_BY, error=_l("Choose one of: {choices}.")))

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        data = _blank_to_none(data, (*SCOPE, "group_by"))
        if isinstance(data, Mapping) and data.get("group_by") is None:
            data = {k: v for k, v in data.items() if k != "group_by"}
        return data


class ImpactFunnelSchema(Schema):
    applied = fields.Integer(metadata={"description": "Applications"})
    admitted = fields.Integer(metadata={"description": "Applications with status admitted"})
    completed = fields.Integer(metadata={"description": "Distinct learners who completed"})
    fully_certified = fields.Integer(
        metadata={"description": "Of those who completed: holding every certification of "
                                 "the track"})
    positive_outcome = fields.Integer(
        metadata={"description": "Of those who completed: with at least one outcome"})


class ImpactGroupKeySchema(Schema):
    """What a group is: slugs and names of places, tracks and partners; never a person."""

    campus = fields.String(allow_none=True)
    track = fields.String(allow_none=True)
    partner = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    cohort_id = fields.Integer()
    course = fields.String()
    starts_on = fields.String()
    ends_on = fields.String()


class ImpactGroupSchema(Schema):
    key = fields.Nested(ImpactGroupKeySchema)
    cohorts = fields.Integer()
    funnel = fields.Nested(ImpactFunnelSchema)


class ImpactProgressSchema(Schema):
    trained = fields.Integer(allow_none=True)
    fully_certified = fields.Integer(allow_none=True)
    positive_outcome = fields.Integer(allow_none=True)


class ImpactTargetProgressSchema(Schema):
    """A target with the actual figures of its scope and period (counts and percentages)."""

    id = fields.Function(lambda p: p.target.id, metadata={"type": "integer"})
    label = fields.Function(lambda p: p.target.label, metadata={"type": "string"})
    partner = fields.String(allow_none=True)
    track = fields.String(allow_none=True)
    campus = fields.String(allow_none=True)
    starts_on = fields.Function(lambda p: p.target.starts_on and p.target.starts_on.isoformat(),
                                allow_none=True, metadata={"type": "string", "format": "date"})
    ends_on = fields.Function(lambda p: p.target.ends_on and p.target.ends_on.isoformat(),
                              allow_none=True, metadata={"type": "string", "format": "date"})
    trained_target = fields.Function(lambda p: p.target.trained_target,
                                     metadata={"type": "integer"})
    trained = fields.Function(lambda p: p.actual.completed, metadata={"type": "integer"})
    certified_target = fields.Function(lambda p: p.target.certified_target,
                                       metadata={"type": "integer"})
    fully_certified = fields.Function(lambda p: p.actual.fully_certified,
                                      metadata={"type": "integer"})
    positive_outcome_target = fields.Function(lambda p: p.target.positive_outcome_target,
                                              allow_none=True, metadata={"type": "integer"})
    positive_outcome = fields.Function(lambda p: p.actual.positive_outcome,
                                       metadata={"type": "integer"})
    progress = fields.Nested(ImpactProgressSchema)


class ImpactFiltersSchema(Schema):
    partner = fields.String(allow_none=True)
    track = fields.String(allow_none=True)
    campus = fields.String(allow_none=True)


class ImpactReportSchema(Schema):
    filters = fields.Nested(ImpactFiltersSchema)
    group_by = fields.String()
    funnel = fields.Nested(ImpactFunnelSchema)
    groups = fields.List(fields.Nested(ImpactGroupSchema))
    targets = fields.List(fields.Nested(ImpactTargetProgressSchema))


class ImpactTargetInputSchema(Schema):
    """An impact target as HQ sets it; partner, track and campus are slugs (empty: any)."""

    label = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Name the target in at most {max} characters.")))
    partner = fields.String(load_default=None, allow_none=True, validate=SLUG)
    track = fields.String(load_default=None, allow_none=True, validate=SLUG)
    campus = fields.String(load_default=None, allow_none=True, validate=SLUG)
    trained_target = fields.Integer(required=True, validate=TARGET_RANGE)
    certified_target = fields.Integer(required=True, validate=TARGET_RANGE)
    positive_outcome_target = fields.Integer(load_default=None, allow_none=True,
                                             validate=TARGET_RANGE)
    starts_on = fields.Date(load_default=None, allow_none=True)
    ends_on = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def blanks(self, data: Any, **_kwargs) -> Any:
        data = _blank_to_none(data, (*SCOPE, "positive_outcome_target", "starts_on", "ends_on"))
        if isinstance(data, Mapping) and isinstance(data.get("label"), str):
            data = {**data, "label": " ".join(data["label"].split())}
        return data

    @validates_schema(skip_on_field_errors=False)
    def dates_in_order(self, data: dict, **_kwargs) -> None:
        # Also checked by the service against the stored dates (a PATCH may send only one).
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise ValidationError(_("The end date cannot be before the start date."), "ends_on")


class ImpactTargetSchema(Schema):
    """An impact target as set (its progress is in the impact report).

    `campuses` maps campus ids to slugs for the targets being dumped (one query per page).
    """

    id = fields.Integer()
    label = fields.String()
    partner = fields.Function(lambda t: t.partner.slug if t.partner else None,
                              allow_none=True, metadata={"type": "string"})
    track = fields.Function(lambda t: t.track.slug if t.track else None,
                            allow_none=True, metadata={"type": "string"})
    campus = fields.Method("campus_slug", allow_none=True, metadata={"type": "string"})
    trained_target = fields.Integer()
    certified_target = fields.Integer()
    positive_outcome_target = fields.Integer(allow_none=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()

    def __init__(self, *args, campuses: Mapping[int, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._campuses = campuses or {}

    def campus_slug(self, target) -> str | None:
        return None if target.campus_id is None else self._campuses.get(target.campus_id)
