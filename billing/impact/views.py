"""HQ's impact pages: the funnel with filters and groupings, targets with progress, and the
forms to set targets."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from billing.impact.api import EDITORS, READERS, load_report_args
from billing.impact.schemas import ImpactTargetInputSchema
from billing.impact.services import (
    STEPS,
    campus_slugs,
    create_target,
    filter_choices,
    get_target,
    impact_report,
    update_target,
)
from core.auth.access import roles_required
from core.errors import AppError
from core.extensions import db
from core.sites import SiteKind, on_sites

bp = Blueprint("impact", __name__, url_prefix="/reports/impact")

GROUPS_PER_PAGE = 50
STEP_LABELS = {
    "applied": _l("Applied"),
    "admitted": _l("Admitted"),
    "completed": _l("Completed"),
    "fully_certified": _l("Fully certified"),
    "positive_outcome": _l("Positive outcome"),
}
GROUP_LABELS = {
    "campus": _l("Campus"),
    "track": _l("Track"),
    "cohort": _l("Cohort"),
    "partner": _l("Sponsoring partner"),
}
FILTERS = ("partner", "track", "campus", "group_by")


@bp.app_context_processor
def impact_globals() -> dict[str, Any]:
    return {"impact_steps": STEPS, "step_labels": STEP_LABELS, "group_labels": GROUP_LABELS}


def _flat(messages: Any) -> dict[str, list[str]]:
    return {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}


@bp.get("")
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def report():
    values = {k: v for k, v in request.args.items() if k in FILTERS}
    choices = filter_choices()
    try:
        args = load_report_args(values)
        data = impact_report(**args)
    except ValidationError as error:
        return render_template("impact/report.html", values=values, errors=_flat(error.messages),
                               choices=choices, data=None), 422
    except AppError as error:
        return render_template("impact/report.html", values=values, errors=error.fields,
                               message=error.message, choices=choices, data=None), error.status
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    groups = data["groups"]
    pages = max((len(groups) + GROUPS_PER_PAGE - 1) // GROUPS_PER_PAGE, 1)
    page = min(page, pages)
    shown = groups[(page - 1) * GROUPS_PER_PAGE:page * GROUPS_PER_PAGE]
    filters = {k: v for k, v in args.items() if v}
    return render_template("impact/report.html", values=args, errors={}, choices=choices,
                           data=data, shown=shown, page=page, pages=pages, filters=filters)


def _form_values() -> dict[str, Any]:
    return {name: request.form.get(name, "") for name in ImpactTargetInputSchema().fields}


def _render_form(target, values: dict, errors: dict, message: str | None = None,
                 status: int = 200):
    return render_template("impact/target_form.html", target=target, values=values,
                           errors=errors, message=message, choices=filter_choices()), status


def _save(target=None):
    values = _form_values()
    try:
        data = ImpactTargetInputSchema().load(values)
        saved = update_target(target, data) if target else create_target(data)
    except ValidationError as error:
        db.session.rollback()
        return _render_form(target, values, _flat(error.messages), status=422)
    except AppError as error:
        db.session.rollback()
        return _render_form(target, values, error.fields, error.message, error.status)
    flash(_("Saved the target “%(label)s”.", label=saved.label), "success")
    return redirect(url_for("impact.report"))


@bp.route("/targets/new", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def new_target():
    if request.method == "POST":
        return _save()
    return _render_form(None, {}, {})


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def edit_target(target_id: int):
    target = get_target(target_id)
    if request.method == "POST":
        return _save(target)
    campus = campus_slugs([target]).get(target.campus_id) if target.campus_id else None
    values = {
        "label": target.label,
        "partner": target.partner.slug if target.partner else "",
        "track": target.track.slug if target.track else "",
        "campus": campus or "",
        "trained_target": target.trained_target,
        "certified_target": target.certified_target,
        "positive_outcome_target": "" if target.positive_outcome_target is None
        else target.positive_outcome_target,
        "starts_on": target.starts_on.isoformat() if target.starts_on else "",
        "ends_on": target.ends_on.isoformat() if target.ends_on else "",
    }
    return _render_form(target, values, {})
