"""What the partner portal's JSON shows a partner: its agreements with their progress, and the
impact of the programmes it funds. Counts and amounts only; never a learner."""

from __future__ import annotations

from marshmallow import Schema, fields

from billing.impact.schemas import (
    ImpactFunnelSchema,
    ImpactGroupSchema,
    ImpactTargetProgressSchema,
)
from core.database import utcnow


class NamedSchema(Schema):
    slug = fields.String()
    name = fields.String()


class AgreementTermsSchema(Schema):
    fixed_fee_minor = fields.Integer(metadata={"description": "Per campus, in minor units"})
    instalments = fields.Integer(metadata={"description": "Monthly instalments of the fixed "
                                                          "fee, from the first month"})
    per_admitted_minor = fields.Integer()
    per_completion_minor = fields.Integer()
    per_certified_minor = fields.Integer(metadata={"description": "Per fully certified "
                                                                  "learner"})


class AgreementTargetsSchema(Schema):
    trained_target = fields.Integer(allow_none=True)
    certified_target = fields.Integer(allow_none=True)


class AgreementProgressSchema(Schema):
    trained = fields.Integer(allow_none=True, metadata={"description": "Percent of the target"})
    fully_certified = fields.Integer(allow_none=True)


class PartnerAgreementSchema(Schema):
    """An agreement as its partner sees it (dumped from a portal AgreementView), with the funnel
    of the cohorts it covers: cohorts the partner sponsors, of its track, at its campuses,
    starting within its period."""

    id = fields.Integer(attribute="agreement.id")
    title = fields.String(attribute="agreement.title")
    track = fields.Nested(NamedSchema, allow_none=True, attribute="agreement.track")
    campuses = fields.List(fields.Nested(NamedSchema), attribute="agreement.campuses")
    currency = fields.String(attribute="agreement.currency")
    starts_on = fields.Date(attribute="agreement.starts_on")
    ends_on = fields.Date(attribute="agreement.ends_on")
    status = fields.Function(lambda v: v.status(utcnow().date()),
                             metadata={"type": "string",
                                       "enum": ["upcoming", "running", "ended"]})
    terms = fields.Nested(AgreementTermsSchema)
    targets = fields.Nested(AgreementTargetsSchema)
    funnel = fields.Nested(ImpactFunnelSchema)
    progress = fields.Nested(AgreementProgressSchema)


class PartnerImpactSchema(Schema):
    """The impact of the programmes the partner funds: the funnel in total, per campus and per
    track, and the partner's targets with their progress."""

    funnel = fields.Nested(ImpactFunnelSchema)
    campuses = fields.List(fields.Nested(ImpactGroupSchema))
    tracks = fields.List(fields.Nested(ImpactGroupSchema))
    targets = fields.List(fields.Nested(ImpactTargetProgressSchema))
