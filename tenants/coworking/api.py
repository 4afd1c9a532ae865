"""`/api/v1/membership-plans`, `/api/v1/memberships`, `/api/v1/coaching-sessions` (campus sites).

Plans carry prices: managers and HQ only. Memberships are sold by managers and HQ; staff read
them (no price) to record coaching sessions, which staff may create and change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError

from core.api import load_args, load_json, paginated
from core.auth.access import roles_required
from core.auth.models import Role
from core.openapi import documented
from core.sites import SiteKind, on_sites
from tenants.coworking import services
from tenants.coworking.schemas import (
    CoachingSessionInputSchema,
    CoachingSessionListArgsSchema,
    CoachingSessionSchema,
    MembershipEndSchema,
    MembershipInputSchema,
    MembershipListArgsSchema,
    MembershipPlanInputSchema,
    MembershipPlanListArgsSchema,
    MembershipPlanSchema,
    MembershipSchema,
    MembershipUpdateSchema,
)

bp = Blueprint("coworking_api", __name__, url_prefix="/api/v1")

# Staff: coaching sessions, attendance, check-in; no money screens (DESIGN.md).
READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.CAMPUS_STAFF)
SELLERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)
ACTION_ERRORS = (401, 403, 404, 409, 422)


def load_optional_json(schema: Schema) -> dict[str, Any]:
    """An action's optional JSON body: none at all is `{}`, anything but an object is a 422."""
    if not request.get_data():
        return schema.load({})
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError({"_schema": [_("Send a JSON object (Content-Type: "
                                             "application/json).")]})
    return schema.load(data)


# ---- plans -------------------------------------------------------------------------------------


@bp.get("/membership-plans")
@documented("Membership plans of this campus", query=MembershipPlanListArgsSchema,
            response=MembershipPlanSchema, paginated=True, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def list_plans():
    args = load_args(MembershipPlanListArgsSchema())
    statement = services.plans_query(args["active"], args["kind"], args["q"])
    return paginated(statement, MembershipPlanSchema(), args["page"], args["per_page"])


@bp.post("/membership-plans")
@documented("Create a membership plan (price in the campus currency)",
            body=MembershipPlanInputSchema, response=MembershipPlanSchema, status=201,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def create_plan():
    plan = services.create_plan(load_json(MembershipPlanInputSchema()), g.campus)
    return MembershipPlanSchema().dump(plan), 201


@bp.get("/membership-plans/<int:plan_id>")
@documented("One membership plan of this campus", response=MembershipPlanSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def show_plan(plan_id: int):
    return MembershipPlanSchema().dump(services.get_plan(plan_id))


@bp.patch("/membership-plans/<int:plan_id>")
@documented("Change a membership plan", body=MembershipPlanInputSchema,
            response=MembershipPlanSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def update_plan(plan_id: int):
    plan = services.get_plan(plan_id)
    data = load_json(MembershipPlanInputSchema(), partial=True)
    return MembershipPlanSchema().dump(services.update_plan(plan, data))


@bp.post("/membership-plans/<int:plan_id>/deactivate")
@documented("Stop selling a plan", response=MembershipPlanSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def deactivate_plan(plan_id: int):
    return MembershipPlanSchema().dump(services.deactivate_plan(services.get_plan(plan_id)))


@bp.post("/membership-plans/<int:plan_id>/activate")
@documented("Sell a plan again", response=MembershipPlanSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def activate_plan(plan_id: int):
    return MembershipPlanSchema().dump(services.activate_plan(services.get_plan(plan_id)))


# ---- memberships -------------------------------------------------------------------------------


@bp.get("/memberships")
@documented("Memberships of this campus (filters: status, plan_id, q on name or e-mail)",
            query=MembershipListArgsSchema, response=MembershipSchema, paginated=True,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_memberships():
    args = load_args(MembershipListArgsSchema())
    statement = services.memberships_query(args["status"], args["plan_id"], args["q"])
    return paginated(statement, MembershipSchema(), args["page"], args["per_page"])


@bp.post("/memberships")
@documented("Sell a membership: `learner_id` of this campus, or `member_name` and "
            "`member_email` of an outside member", body=MembershipInputSchema,
            response=MembershipSchema, status=201, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def create_membership():
    membership = services.create_membership(load_json(MembershipInputSchema()))
    return MembershipSchema().dump(membership), 201


@bp.get("/memberships/<int:membership_id>")
@documented("One membership of this campus", response=MembershipSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show_membership(membership_id: int):
    return MembershipSchema().dump(services.get_membership(membership_id))


@bp.patch("/memberships/<int:membership_id>")
@documented("Change an active membership (plan, dates; name and e-mail of an outside member)",
            body=MembershipUpdateSchema, response=MembershipSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def update_membership(membership_id: int):
    membership = services.get_membership(membership_id)
    data = load_json(MembershipUpdateSchema(), partial=True)
    return MembershipSchema().dump(services.update_membership(membership, data))


@bp.post("/memberships/<int:membership_id>/end")
@documented("End an active membership (`ends_on` defaults to today at the campus)",
            body=MembershipEndSchema, response=MembershipSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def end_membership(membership_id: int):
    membership = services.get_membership(membership_id)
    data = load_optional_json(MembershipEndSchema())
    ended = services.end_membership(membership, services.campus_today(g.campus), data["ends_on"])
    return MembershipSchema().dump(ended)


@bp.post("/memberships/<int:membership_id>/cancel")
@documented("Cancel an active membership", response=MembershipSchema, errors=ACTION_ERRORS)
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def cancel_membership(membership_id: int):
    membership = services.get_membership(membership_id)
    return MembershipSchema().dump(services.cancel_membership(membership))


# ---- coaching sessions -------------------------------------------------------------------------


@bp.get("/coaching-sessions")
@documented("Coaching sessions of this campus (filters: membership_id, coach_id, from, to)",
            query=CoachingSessionListArgsSchema, response=CoachingSessionSchema,
            paginated=True, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def list_sessions():
    args = load_args(CoachingSessionListArgsSchema())
    statement = services.sessions_query(args["membership_id"], args["coach_id"],
                                        args["held_from"], args["held_to"], args["q"])
    return paginated(statement, CoachingSessionSchema(), args["page"], args["per_page"])


@bp.post("/coaching-sessions")
@documented("Record a coaching session (`coach_id` defaults to you)",
            body=CoachingSessionInputSchema, response=CoachingSessionSchema, status=201,
            errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def create_session():
    coaching = services.create_session(load_json(CoachingSessionInputSchema()), current_user.id)
    return CoachingSessionSchema().dump(coaching), 201


@bp.get("/coaching-sessions/<int:session_id>")
@documented("One coaching session of this campus", response=CoachingSessionSchema)
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def show_session(session_id: int):
    return CoachingSessionSchema().dump(services.get_session(session_id))


@bp.patch("/coaching-sessions/<int:session_id>")
@documented("Change a coaching session", body=CoachingSessionInputSchema,
            response=CoachingSessionSchema, errors=(401, 403, 404, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def update_session(session_id: int):
    coaching = services.get_session(session_id)
    data = load_json(CoachingSessionInputSchema(), partial=True)
    return CoachingSessionSchema().dump(services.update_session(coaching, data))
