"""HQ's impact pages: the funnel with filters and groupings, targets with progress, and the
forms to set targets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from billing.impact.api import EDITORS, READERS, load_report_args
from billing.impact.schemas import ImpactTargetInputSchema
from billing.impact.services import (
    STEPS,
    Funnel,
    FunnelGroup,
    campus_slugs,
    create_target,
    filter_choices,
    get_target,
    impact_report,
    update_target,
)
from core.auth.access import roles_required
from core.charts import FunnelChart
from core.charts import funnel as chart_of_funnel
from core.errors import AppError
from core.exports import Column, exportable, requested_format, table_response
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


# What each conversion is a percentage of (Funnel.conversion), in words.
CONVERSION_BASES = {
    "admitted": _l("of applications"),
    "completed": _l("of admitted applications"),
    "fully_certified": _l("of those who completed"),
    "positive_outcome": _l("of those who completed"),
}


def funnel_chart(funnel: Funnel) -> FunnelChart:
    """The funnel's steps as a chart, with the service's own conversions (never recomputed)."""
    return chart_of_funnel([(step, str(STEP_LABELS[step]), value)
                            for step, value in funnel.as_dict().items()],
                           conversions=funnel.conversion(),
                           bases={"positive_outcome": "completed"})


@bp.app_context_processor
def impact_globals() -> dict[str, Any]:
    return {"impact_steps": STEPS, "step_labels": STEP_LABELS, "group_labels": GROUP_LABELS,
            "impact_funnel_chart": funnel_chart, "conversion_bases": CONVERSION_BASES}


def funnel_columns(first: str, with_rate: bool = False) -> tuple[Column, ...]:
    """Export columns of a table of FunnelGroup rows (the impact breakdown, the portal's
    tables): the group, its cohorts, each step, and the certified share of those who completed
    when the page shows it."""
    columns = [Column(first, lambda group: group.label),
               Column(_l("Cohorts"), lambda group: group.cohorts, "number")]
    columns += [Column(STEP_LABELS[step], lambda group, step=step: getattr(group.funnel, step),
                       "number") for step in STEPS]
    if with_rate:
        columns.append(Column(_l("Certified of completed"),
                              lambda group: _ratio(group.funnel.conversion()["fully_certified"]),
                              "percent"))
    return tuple(columns)


def _ratio(whole_percent: int | None) -> Decimal | None:
    return None if whole_percent is None else Decimal(whole_percent) / 100


def with_total(groups: list[FunnelGroup], funnel: Funnel) -> list[FunnelGroup]:
    """`groups` and the total row the page shows under them (a learner counts once)."""
    return [*groups, FunnelGroup({}, _("Total"), sum(g.cohorts for g in groups), funnel)]


def _flat(messages: Any) -> dict[str, list[str]]:
    return {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}


@bp.get("")
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
@exportable
def report():
    fmt = requested_format()
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
    groups = data["groups"]
    if fmt:
        return table_response(fmt, f"impact-by-{data['group_by']}",
                              funnel_columns(str(GROUP_LABELS[data["group_by"]]), True),
                              with_total(groups, data["funnel"]), title=_("Impact"))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
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
