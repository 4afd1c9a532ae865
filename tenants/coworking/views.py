"""Coworking pages of a campus: plans (managers and HQ), memberships, coaching sessions (staff too).

Views parse with the same schemas as the API and call the same services. A form with bad input
is shown again with the fields marked (422); an action that does not apply (409) shows the page
again with the reason.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import EXCLUDE, ValidationError

from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.errors import AppError
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import db
from core.money import format_money, to_major
from core.sites import SiteKind, on_sites
from tenants.coworking import services
from tenants.coworking.api import READERS, SELLERS
from tenants.coworking.models import MembershipStatus, PlanKind
from tenants.coworking.schemas import (
    CoachingSessionFormSchema,
    CoachingSessionListFormArgsSchema,
    MembershipEndSchema,
    MembershipFormSchema,
    MembershipListFormArgsSchema,
    MembershipPlanFormSchema,
    MembershipUpdateSchema,
)

bp = Blueprint("coworking", __name__, url_prefix="/coworking")
PER_PAGE = 25


def _kind_label(kind: PlanKind) -> str:
    return _("Monthly") if kind is PlanKind.MONTHLY else _("Day pass")


PLAN_COLUMNS = (
    Column(_l("Name"), lambda plan: plan.name),
    Column(_l("Kind"), lambda plan: _kind_label(plan.kind)),
    Column(_l("Price"), lambda plan: (plan.price_minor, plan.currency), "money"),
    Column(_l("Currency"), lambda plan: plan.currency, width=10),
    Column(_l("Status"), lambda plan: _("Sold") if plan.is_active else _("No longer sold")),
    Column(_l("Created"), lambda plan: plan.created_at, "datetime"),
)
MEMBERSHIP_COLUMNS = (
    Column(_l("Member"), lambda m: m.member_name),
    Column(_l("E-mail"), lambda m: m.member_email),
    Column(_l("Learner"), lambda m: _("yes") if m.learner_id else _("no"), width=10),
    Column(_l("Plan"), lambda m: m.plan.name),
    Column(_l("From"), lambda m: m.starts_on, "date"),
    Column(_l("Until"), lambda m: m.ends_on, "date"),
    Column(_l("Status"), lambda m: services.status_label(m.status)),
)
SESSION_COLUMNS = (
    Column(_l("Date"), lambda s: s.held_on, "date"),
    Column(_l("Member"), lambda s: s.membership.member_name),
    Column(_l("Coach"), lambda s: s.coach.full_name),
    Column(_l("Minutes"), lambda s: s.duration_minutes, "number"),
    Column(_l("Notes"), lambda s: s.notes, width=50),
)


@bp.context_processor
def helpers() -> dict[str, Any]:
    def money(amount_minor: int, currency: str) -> str:
        return format_money(amount_minor, currency, str(get_locale() or "en"))

    role = current_user.role if current_user.is_authenticated else None
    return {"money": money, "may_sell": role in SELLERS, "PlanKind": PlanKind,
            "MembershipStatus": MembershipStatus, "status_label": services.status_label}


def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _page(statement):
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(statement, page=max(page, 1), per_page=PER_PAGE,
                       max_per_page=MAX_PER_PAGE, error_out=False)


def _failed(error: AppError, render):
    """Show the page again with the reason and the error's status; nothing of it is kept."""
    db.session.rollback()
    return render(message=error.message, errors=error.fields, status=error.status)


# ---- plans -------------------------------------------------------------------------------------


def _plans_search() -> str:
    return request.args.get("q", "")[:200].strip()


def _plans_page(message: str | None = None, status: int = 200, **_ignored: Any):
    search = _plans_search()
    return render_template("coworking/plans.html",
                           pagination=_page(services.plans_query(search=search)),
                           search=search, message=message), status


@bp.get("/plans")
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
@exportable
def plans():
    if fmt := requested_format():
        return table_response(fmt, f"plans-{g.campus.slug}", PLAN_COLUMNS,
                              stream(services.plans_query(search=_plans_search())))
    return _plans_page()


def _plan_form(plan=None, values=None, errors=None, message=None) -> str:
    return render_template("coworking/plan_form.html", plan=plan, values=values or {},
                           errors=errors or {}, message=message, currency=g.campus.currency)


def _save_plan(plan=None):
    values = _form_values()
    schema = MembershipPlanFormSchema(currency=g.campus.currency)
    try:
        data = schema.load(values, unknown=EXCLUDE)
        saved = services.update_plan(plan, data) if plan else services.create_plan(data,
                                                                                   g.campus)
    except ValidationError as error:
        return _plan_form(plan, values, error.messages), 422
    except AppError as error:
        db.session.rollback()
        return _plan_form(plan, values, error.fields, error.message), error.status
    flash(_("Saved the plan %(name)s.", name=saved.name), "success")
    return redirect(url_for("coworking.plans"))


@bp.route("/plans/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def new_plan():
    if request.method == "POST":
        return _save_plan()
    return _plan_form(values={"kind": PlanKind.MONTHLY.value})


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def edit_plan(plan_id: int):
    plan = services.get_plan(plan_id)
    if request.method == "POST":
        return _save_plan(plan)
    values = {"name": plan.name, "kind": plan.kind.value,
              "price": str(to_major(plan.price_minor, plan.currency))}
    return _plan_form(plan, values)


def _plan_action(plan_id: int, action, done: str):
    plan = services.get_plan(plan_id)
    try:
        action(plan)
    except AppError as error:
        return _failed(error, _plans_page)
    flash(done % {"name": plan.name}, "success")
    return redirect(url_for("coworking.plans"))


@bp.post("/plans/<int:plan_id>/deactivate")
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def deactivate_plan(plan_id: int):
    return _plan_action(plan_id, services.deactivate_plan,
                        _("The plan %(name)s is no longer sold."))


@bp.post("/plans/<int:plan_id>/activate")
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def activate_plan(plan_id: int):
    return _plan_action(plan_id, services.activate_plan, _("The plan %(name)s is sold again."))


# ---- memberships -------------------------------------------------------------------------------


def _memberships_page(message: str | None = None, errors: dict | None = None,
                      status: int = 200):
    try:
        args = MembershipListFormArgsSchema().load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError as error:
        args = {"status": None, "plan_id": None, "q": ""}
        errors = {**error.messages, **(errors or {})}
        message = message or _("Some filters are invalid; showing every membership.")
        status = 422 if status == 200 else status
    statement = services.memberships_query(args["status"], args["plan_id"], args["q"])
    return render_template("coworking/memberships.html", pagination=_page(statement),
                           filters=args, plans=services.all_plans(), message=message,
                           errors=errors or {}, today=services.campus_today(g.campus)), status


@bp.get("/memberships")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def memberships():
    if fmt := requested_format():  # invalid filters: 422, never every membership
        args = MembershipListFormArgsSchema().load(request.args.to_dict(), unknown=EXCLUDE)
        statement = services.memberships_query(args["status"], args["plan_id"], args["q"])
        return table_response(fmt, f"memberships-{g.campus.slug}", MEMBERSHIP_COLUMNS,
                              stream(statement))
    return _memberships_page()


def _membership_form(membership=None, values=None, errors=None, message=None) -> str:
    kinds = {PlanKind.MONTHLY: _("monthly"), PlanKind.DAY_PASS: _("day pass")}
    plan_options = [(p.id, f"{p.name} ({kinds[p.kind]})") for p in services.all_plans()
                    if p.is_active or (membership is not None and p.id == membership.plan_id)]
    learner_options = [] if membership is not None else [
        (learner.id, f"{learner.full_name} — {learner.email}")
        for learner in services.learner_choices()]
    return render_template("coworking/membership_form.html", membership=membership,
                           values=values or {}, errors=errors or {}, message=message,
                           plan_options=plan_options, learner_options=learner_options)


def _save_membership(membership=None):
    values = _form_values()
    try:
        if membership is None:
            saved = services.create_membership(MembershipFormSchema().load(values,
                                                                           unknown=EXCLUDE))
        else:
            data = MembershipUpdateSchema().load(values, unknown=EXCLUDE)
            saved = services.update_membership(membership, data)
    except ValidationError as error:
        return _membership_form(membership, values, error.messages), 422
    except AppError as error:
        db.session.rollback()
        return _membership_form(membership, values, error.fields, error.message), error.status
    flash(_("Saved the membership of %(name)s.", name=saved.member_name), "success")
    return redirect(url_for("coworking.memberships"))


@bp.route("/memberships/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def new_membership():
    if request.method == "POST":
        return _save_membership()
    return _membership_form(values={"starts_on": services.campus_today(g.campus).isoformat()})


@bp.route("/memberships/<int:membership_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def edit_membership(membership_id: int):
    membership = services.get_membership(membership_id)
    if request.method == "POST":
        return _save_membership(membership)
    values = {"plan_id": str(membership.plan_id), "member_name": membership.member_name,
              "member_email": membership.member_email,
              "starts_on": membership.starts_on.isoformat(),
              "ends_on": membership.ends_on.isoformat() if membership.ends_on else ""}
    return _membership_form(membership, values)


@bp.post("/memberships/<int:membership_id>/end")
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def end_membership(membership_id: int):
    membership = services.get_membership(membership_id)
    try:
        data = MembershipEndSchema().load({"ends_on": request.form.get("ends_on", "")})
        services.end_membership(membership, services.campus_today(g.campus), data["ends_on"])
    except ValidationError as error:
        return _memberships_page(_("Some fields are invalid."), error.messages, 422)
    except AppError as error:
        return _failed(error, _memberships_page)
    flash(_("Ended the membership of %(name)s.", name=membership.member_name), "success")
    return redirect(url_for("coworking.memberships"))


@bp.post("/memberships/<int:membership_id>/cancel")
@on_sites(SiteKind.CAMPUS)
@roles_required(*SELLERS)
def cancel_membership(membership_id: int):
    membership = services.get_membership(membership_id)
    try:
        services.cancel_membership(membership)
    except AppError as error:
        return _failed(error, _memberships_page)
    flash(_("Cancelled the membership of %(name)s.", name=membership.member_name), "success")
    return redirect(url_for("coworking.memberships"))


# ---- coaching sessions -------------------------------------------------------------------------


@bp.get("/sessions")
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
@exportable
def sessions():
    if fmt := requested_format():  # invalid filters: 422, never every session
        args = CoachingSessionListFormArgsSchema().load(request.args.to_dict(), unknown=EXCLUDE)
        statement = services.sessions_query(args["membership_id"], args["coach_id"],
                                            args["held_from"], args["held_to"], args["q"])
        return table_response(fmt, f"coaching-sessions-{g.campus.slug}", SESSION_COLUMNS,
                              stream(statement))
    status, errors = 200, {}
    try:
        args = CoachingSessionListFormArgsSchema().load(request.args.to_dict(),
                                                        unknown=EXCLUDE)
    except ValidationError as error:
        status, errors = 422, error.messages
        args = {"membership_id": None, "coach_id": None, "held_from": None, "held_to": None,
                "q": ""}
    statement = services.sessions_query(args["membership_id"], args["coach_id"],
                                        args["held_from"], args["held_to"], args["q"])
    return render_template("coworking/sessions.html", pagination=_page(statement),
                           filters=args, errors=errors, values=request.args,
                           coaches=services.coach_choices()), status


def _session_form(coaching=None, values=None, errors=None, message=None) -> str:
    memberships = services.active_memberships()
    if coaching is not None and coaching.membership not in memberships:
        memberships.append(coaching.membership)  # an ended membership keeps its sessions
    membership_choices = [(m.id, f"{m.member_name} — {m.plan.name}") for m in memberships]
    coach_choices = [(c.id, c.full_name) for c in services.coach_choices()]
    return render_template("coworking/session_form.html", coaching=coaching, values=values or {},
                           errors=errors or {}, message=message, memberships=memberships,
                           membership_choices=membership_choices, coach_choices=coach_choices)


def _save_session(coaching=None):
    values = _form_values()
    try:
        data = CoachingSessionFormSchema().load(values, unknown=EXCLUDE)
        saved = (services.update_session(coaching, data) if coaching
                 else services.create_session(data, current_user.id))
    except ValidationError as error:
        return _session_form(coaching, values, error.messages), 422
    except AppError as error:
        db.session.rollback()
        return _session_form(coaching, values, error.fields, error.message), error.status
    flash(_("Saved the coaching session with %(name)s.", name=saved.membership.member_name),
          "success")
    return redirect(url_for("coworking.sessions"))


@bp.route("/sessions/new", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def new_session():
    if request.method == "POST":
        return _save_session()
    values = {"membership_id": request.args.get("membership_id", ""),
              "coach_id": str(current_user.id), "duration_minutes": "45",
              "held_on": services.campus_today(g.campus).isoformat()}
    return _session_form(values=values)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.CAMPUS)
@roles_required(*READERS)
def edit_session(session_id: int):
    coaching = services.get_session(session_id)
    if request.method == "POST":
        return _save_session(coaching)
    values = {"membership_id": str(coaching.membership_id), "coach_id": str(coaching.coach_id),
              "held_on": coaching.held_on.isoformat(),
              "duration_minutes": str(coaching.duration_minutes), "notes": coaching.notes}
    return _session_form(coaching, values)
