"""Coworking rules: plans, memberships and coaching sessions of the bound campus.

Every campus-owned row, including ids named in an input (plan, learner, membership), is looked up
through the campus scope: another campus's id is "no such …", never a link across campuses.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from core.auth.models import CAMPUS_ROLES, Role, User
from core.database import like_pattern
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from core.sites import Site, SiteKind
from tenants.campuses.models import Campus
from tenants.campuses.services import today_at
from tenants.coworking.models import (
    CoachingSession,
    Membership,
    MembershipPlan,
    MembershipStatus,
    PlanKind,
)
from tenants.learners.models import Learner
from tenants.scoping import bound_campus_id


def campus_today(campus: Campus) -> date:
    """Today's date where the campus is (its timezone), not in UTC."""
    return today_at(campus)


def _scoped_get(model: type, row_id: int | None) -> Any:
    campus_id = bound_campus_id()
    if campus_id is None or row_id is None:
        return None
    return db.session.get(model, (campus_id, row_id))


# ---- plans -------------------------------------------------------------------------------------


def plans_query(active: bool | None = None, kind: PlanKind | None = None,
                search: str = "") -> Select:
    """Plans of the bound campus: active first, then by name."""
    statement = select(MembershipPlan).order_by(MembershipPlan.is_active.desc(),
                                                MembershipPlan.name, MembershipPlan.id)
    if active is not None:
        statement = statement.where(MembershipPlan.is_active.is_(active))
    if kind is not None:
        statement = statement.where(MembershipPlan.kind == kind)
    if search.strip():
        statement = statement.where(MembershipPlan.name.ilike(like_pattern(search.strip()),
                                                              escape="\\"))
    return statement


def all_plans() -> list[MembershipPlan]:
    """Every plan of the bound campus (for filters and pickers)."""
    return list(db.session.scalars(plans_query()))


def get_plan(plan_id: int) -> MembershipPlan:
    """The bound campus's plan `plan_id`; raises NotFound for any other one."""
    plan = _scoped_get(MembershipPlan, plan_id)
    if plan is None:
        raise NotFound(_("No such membership plan."))
    return plan


def create_plan(data: dict[str, Any], campus: Campus) -> MembershipPlan:
    """A new active plan priced in the campus's currency (never a currency from the input)."""
    plan = MembershipPlan(name=data["name"], kind=data["kind"], price_minor=data["price_minor"],
                          currency=campus.currency, is_active=True)
    db.session.add(plan)
    db.session.flush()
    return plan


def _plan_in_use(plan: MembershipPlan) -> bool:
    return bool(db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.plan_id == plan.id)))


def update_plan(plan: MembershipPlan, data: dict[str, Any]) -> MembershipPlan:
    """Change name, kind or price; raises Conflict `plan_in_use` when the kind of a plan that
    already has memberships would change (its day passes or months would no longer hold)."""
    if "kind" in data and data["kind"] != plan.kind and _plan_in_use(plan):
        raise Conflict(_("This plan already has memberships: its kind can no longer change. "
                         "Create a new plan instead."),
                       {"kind": [_("The plan already has memberships.")]}, code="plan_in_use")
    for field in ("name", "kind", "price_minor"):
        if field in data:
            setattr(plan, field, data[field])
    db.session.flush()
    return plan


def deactivate_plan(plan: MembershipPlan) -> MembershipPlan:
    """Stop selling the plan (existing memberships go on); raises Conflict if already inactive."""
    if not plan.is_active:
        raise Conflict(_("This plan is already inactive."), code="invalid_transition")
    plan.is_active = False
    db.session.flush()
    return plan


def activate_plan(plan: MembershipPlan) -> MembershipPlan:
    """Sell the plan again; raises Conflict if it is already active."""
    if plan.is_active:
        raise Conflict(_("This plan is already active."), code="invalid_transition")
    plan.is_active = True
    db.session.flush()
    return plan


# ---- memberships -------------------------------------------------------------------------------


def memberships_query(status: MembershipStatus | None = None, plan_id: int | None = None,
                      search: str = "") -> Select:
    """Memberships of the bound campus, newest start first, with their plan in the same query."""
    statement = (select(Membership).options(joinedload(Membership.plan))
                 .order_by(Membership.starts_on.desc(), Membership.id.desc()))
    if status is not None:
        statement = statement.where(Membership.status == status)
    if plan_id is not None:
        statement = statement.where(Membership.plan_id == plan_id)
    term = search.strip()
    if term:
        pattern = like_pattern(term)
        statement = statement.where(or_(Membership.member_name.ilike(pattern, escape="\\"),
                                        Membership.member_email.ilike(pattern, escape="\\")))
    return statement


def get_membership(membership_id: int) -> Membership:
    """The bound campus's membership `membership_id`; raises NotFound for any other one."""
    membership = _scoped_get(Membership, membership_id)
    if membership is None:
        raise NotFound(_("No such membership."))
    return membership


def _sellable_plan(plan_id: int | None, errors: dict[str, list[str]],
                   current: MembershipPlan | None = None) -> MembershipPlan | None:
    plan = _scoped_get(MembershipPlan, plan_id)
    if plan is None:
        errors["plan_id"] = [_("Choose a plan of this campus.")]
    elif not plan.is_active and plan is not current:
        errors["plan_id"] = [_("This plan is no longer sold; choose an active plan.")]
    return plan


def _check_dates(plan: MembershipPlan | None, starts_on: date, ends_on: date | None,
                 errors: dict[str, list[str]]) -> None:
    if ends_on is not None and ends_on < starts_on:
        errors.setdefault("ends_on", []).append(_("The end date cannot be before the start date."))
    elif plan is not None and plan.kind is PlanKind.DAY_PASS and ends_on not in (None, starts_on):
        errors.setdefault("ends_on", []).append(_("A day pass ends the day it starts."))


def _member_from_input(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The member's identity: copied from a learner of the campus, or typed for an outsider."""
    if data.get("learner_id") is not None:
        learner = _scoped_get(Learner, data["learner_id"])
        if learner is None:
            errors["learner_id"] = [_("Choose a learner of this campus.")]
            return {}
        for field in ("member_name", "member_email"):
            if data.get(field):
                errors[field] = [_("Leave this empty when the member is a learner: it is "
                                   "copied from the learner.")]
        return {"learner_id": learner.id, "member_name": learner.full_name,
                "member_email": learner.email}
    if not data.get("member_name"):
        errors["member_name"] = [_("Choose a learner, or give the outside member's name.")]
    if not data.get("member_email"):
        errors["member_email"] = [_("Choose a learner, or give the outside member's e-mail.")]
    return {"learner_id": None, "member_name": data.get("member_name"),
            "member_email": data.get("member_email")}


def create_membership(data: dict[str, Any]) -> Membership:
    """Sell a membership of an active plan of the bound campus.

    The member is a learner of the campus (`learner_id`; name and e-mail copied) or an outside
    member (`member_name`, `member_email`). A day pass ends the day it starts. Raises InvalidInput
    naming each failing field; nothing is stored then.
    """
    errors: dict[str, list[str]] = {}
    plan = _sellable_plan(data.get("plan_id"), errors)
    member = _member_from_input(data, errors)
    ends_on = data.get("ends_on")
    if plan is not None and plan.kind is PlanKind.DAY_PASS and ends_on is None:
        ends_on = data["starts_on"]
    _check_dates(plan, data["starts_on"], ends_on, errors)
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    membership = Membership(plan_id=plan.id, starts_on=data["starts_on"], ends_on=ends_on,
                            status=MembershipStatus.ACTIVE, **member)
    db.session.add(membership)
    db.session.flush()
    return membership


def _require_active(membership: Membership, message: str) -> None:
    """Raise Conflict `invalid_transition` with `message` unless the membership is active."""
    if membership.status is not MembershipStatus.ACTIVE:
        raise Conflict(message % {"status": status_label(membership.status)},
                       code="invalid_transition")


def status_label(status: MembershipStatus) -> str:
    """The status as people read it, translated."""
    return {MembershipStatus.ACTIVE: _("active"), MembershipStatus.ENDED: _("ended"),
            MembershipStatus.CANCELLED: _("cancelled")}[status]


def _check_member_changes(membership: Membership, data: dict[str, Any],
                          errors: dict[str, list[str]]) -> None:
    """A learner's name and e-mail are the learner's; an outsider's cannot become empty."""
    for field in ("member_name", "member_email"):
        if field not in data:
            continue
        if membership.learner_id is not None:
            if data[field] not in (None, getattr(membership, field)):
                errors[field] = [_("Copied from the learner: change the learner instead.")]
        elif not data[field]:
            errors[field] = [_("An outside member needs a name and an e-mail.")]


def update_membership(membership: Membership, data: dict[str, Any]) -> Membership:
    """Change plan, dates or (for an outside member) name and e-mail of an active membership.

    Raises Conflict `invalid_transition` when it is no longer active, InvalidInput otherwise.
    """
    _require_active(membership, _("Only an active membership can be changed; this one is "
                                  "%(status)s."))
    errors: dict[str, list[str]] = {}
    plan = membership.plan
    if "plan_id" in data and data["plan_id"] != membership.plan_id:
        plan = _sellable_plan(data["plan_id"], errors, current=membership.plan)
    starts_on = data.get("starts_on", membership.starts_on)
    ends_on = data.get("ends_on", membership.ends_on)
    if plan is not None and plan.kind is PlanKind.DAY_PASS and "ends_on" not in data:
        ends_on = starts_on
    _check_dates(plan, starts_on, ends_on, errors)
    _check_member_changes(membership, data, errors)
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    membership.plan = plan
    membership.starts_on, membership.ends_on = starts_on, ends_on
    if membership.learner_id is None:
        for field in ("member_name", "member_email"):
            if data.get(field):
                setattr(membership, field, data[field])
    db.session.flush()
    return membership


def end_membership(membership: Membership, today: date, ends_on: date | None = None
                   ) -> Membership:
    """active → ended, on `ends_on` (default: `today` at the campus; a day pass keeps its day).

    Raises Conflict `invalid_transition` unless active, InvalidInput for a date before the start.
    """
    _require_active(membership, _("Only an active membership can be ended; this one is "
                                  "%(status)s."))
    if membership.plan.kind is PlanKind.DAY_PASS:
        day = ends_on or membership.starts_on
        if day != membership.starts_on:
            raise InvalidInput(_("A day pass ends the day it starts."),
                               {"ends_on": [_("A day pass ends the day it starts.")]})
    else:
        day = ends_on or today
        if day < membership.starts_on:
            message = _("The end date cannot be before the start date (%(day)s).",
                        day=membership.starts_on.isoformat())
            raise InvalidInput(message, {"ends_on": [message]})
    membership.status = MembershipStatus.ENDED
    membership.ends_on = day
    db.session.flush()
    return membership


def cancel_membership(membership: Membership) -> Membership:
    """active → cancelled; raises Conflict `invalid_transition` otherwise."""
    _require_active(membership, _("Only an active membership can be cancelled; this one is "
                                  "%(status)s."))
    membership.status = MembershipStatus.CANCELLED
    db.session.flush()
    return membership


def learner_choices() -> list[Learner]:
    """Learners of the bound campus for the membership form, by name."""
    return list(db.session.scalars(select(Learner).order_by(Learner.full_name, Learner.id)))


def active_memberships() -> list[Membership]:
    """Active memberships of the bound campus, by member name (for the session form)."""
    return list(db.session.scalars(
        select(Membership).options(joinedload(Membership.plan))
        .where(Membership.status == MembershipStatus.ACTIVE)
        .order_by(Membership.member_name, Membership.id)))


# ---- coaching sessions -------------------------------------------------------------------------


def sessions_query(membership_id: int | None = None, coach_id: int | None = None,
                   held_from: date | None = None, held_to: date | None = None,
                   search: str = "") -> Select:
    """Coaching sessions of the bound campus, newest first, member and coach in the same query."""
    statement = (select(CoachingSession)
                 .join(CoachingSession.membership)
                 .options(contains_eager(CoachingSession.membership),
                          joinedload(CoachingSession.coach))
                 .order_by(CoachingSession.held_on.desc(), CoachingSession.id.desc()))
    if membership_id is not None:
        statement = statement.where(CoachingSession.membership_id == membership_id)
    if coach_id is not None:
        statement = statement.where(CoachingSession.coach_id == coach_id)
    if held_from is not None:
        statement = statement.where(CoachingSession.held_on >= held_from)
    if held_to is not None:
        statement = statement.where(CoachingSession.held_on <= held_to)
    term = search.strip()
    if term:
        statement = statement.where(Membership.member_name.ilike(like_pattern(term),
                                                                 escape="\\"))
    return statement


def get_session(session_id: int) -> CoachingSession:
    """The bound campus's coaching session `session_id`; raises NotFound for any other one."""
    coaching = _scoped_get(CoachingSession, session_id)
    if coaching is None:
        raise NotFound(_("No such coaching session."))
    return coaching


def coach_choices() -> list[User]:
    """Users who may coach at the bound campus: its managers and staff, and HQ admins."""
    campus_id = bound_campus_id()
    return list(db.session.scalars(
        select(User).where(User.is_active.is_(True), or_(
            User.role == Role.HQ_ADMIN,
            and_(User.role.in_(CAMPUS_ROLES), User.campus_id == campus_id),
        )).order_by(User.full_name, User.id)))


def _coach(coach_id: int | None, errors: dict[str, list[str]]) -> User | None:
    user = db.session.get(User, coach_id) if coach_id is not None else None
    site = Site(SiteKind.CAMPUS, campus_id=bound_campus_id())
    if user is None or not user.may_act_on(site):
        errors["coach_id"] = [_("Choose a coach who works at this campus.")]
        return None
    return user


def _covering_membership(membership_id: int | None, held_on: date,
                         errors: dict[str, list[str]]) -> Membership | None:
    """The membership, if it is the campus's and ran on `held_on` (a cancelled one never did)."""
    membership = _scoped_get(Membership, membership_id)
    if membership is None:
        errors["membership_id"] = [_("Choose a membership of this campus.")]
        return None
    if membership.status is MembershipStatus.CANCELLED:
        errors["membership_id"] = [_("This membership was cancelled.")]
    elif held_on < membership.starts_on or (membership.ends_on and held_on > membership.ends_on):
        if membership.ends_on is None:
            message = _("The membership starts on %(start)s; pick that day or a later one.",
                        start=membership.starts_on.isoformat())
        else:
            message = _("The membership runs from %(start)s to %(end)s; pick a day in between.",
                        start=membership.starts_on.isoformat(),
                        end=membership.ends_on.isoformat())
        errors["held_on"] = [message]
    return membership


def create_session(data: dict[str, Any], coach_id: int) -> CoachingSession:
    """Record a coaching session of a membership active on `held_on`.

    `coach_id` is the coach from the input or, failing that, the person recording it; the coach
    must be a manager or staff member of this campus, or HQ. Raises InvalidInput naming each
    failing field; nothing is stored then.
    """
    errors: dict[str, list[str]] = {}
    membership = _covering_membership(data.get("membership_id"), data["held_on"], errors)
    coach = _coach(data.get("coach_id") or coach_id, errors)
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    coaching = CoachingSession(membership_id=membership.id, coach_id=coach.id,
                               held_on=data["held_on"],
                               duration_minutes=data["duration_minutes"],
                               notes=data.get("notes") or "")
    db.session.add(coaching)
    db.session.flush()
    return coaching


def update_session(coaching: CoachingSession, data: dict[str, Any]) -> CoachingSession:
    """Change a coaching session with the same rules as `create_session`."""
    errors: dict[str, list[str]] = {}
    held_on = data.get("held_on", coaching.held_on)
    membership = coaching.membership
    if "membership_id" in data or "held_on" in data:
        membership = _covering_membership(data.get("membership_id", coaching.membership_id),
                                          held_on, errors)
    coach = coaching.coach
    if data.get("coach_id") and data["coach_id"] != coaching.coach_id:
        coach = _coach(data["coach_id"], errors)
    if errors:
        raise InvalidInput(_("Some fields are invalid."), errors)
    coaching.membership, coaching.coach, coaching.held_on = membership, coach, held_on
    if "duration_minutes" in data:
        coaching.duration_minutes = data["duration_minutes"]
    if "notes" in data:
        coaching.notes = data["notes"] or ""
    db.session.flush()
    return coaching
