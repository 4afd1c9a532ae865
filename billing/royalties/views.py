"""Royalty pages.

* `/royalties` on `hq.`: every campus's statements (filter by month and campus) and the form
  that runs a month (synchronous: one statement per campus; the page then shows the run's
  progress, campuses processed out of campuses, and what it created);
* `/royalties` on a campus site (manager, HQ): the campus's own statements, with links to their
  invoice page and PDF;
* `/royalties/rates` on `hq.`: the campus x stream grid of rates.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from billing.agreements.runs import (
    check_month_is_over,
    parse_month,
    previous_month,
    run_summary,
)
from billing.ledger.models import RevenueStream
from billing.ledger.views import stream_labels
from billing.royalties.runs import issue_royalties
from billing.royalties.schemas import (
    RoyaltyRateSchema,
    RunMonthSchema,
    StatementArgsSchema,
)
from billing.royalties.services import rate_grid, set_rates, statements_query
from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.auth.models import Role
from core.database import utcnow
from core.errors import AppError
from core.extensions import db
from core.sites import SiteKind, current_site, on_sites
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses

bp = Blueprint("royalties", __name__, url_prefix="/royalties")

PER_PAGE = 25
LAST_RUN_KEY = "last_royalty_run"
HQ = (Role.HQ_ADMIN,)
READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)


def _flat(messages: Any) -> dict[str, list[str]]:
    if not isinstance(messages, dict):
        return {"_schema": [str(m) for m in messages]}
    return {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}


def _statement_args() -> dict[str, Any]:
    values = {k: v for k, v in request.args.to_dict().items()
              if k in ("month", "campus", "page")}
    try:
        return StatementArgsSchema().load(values, unknown="exclude")
    except ValidationError as error:
        kept = {k: v for k, v in values.items() if k not in error.messages}
        return StatementArgsSchema().load(kept, unknown="exclude")


def _campuses() -> list[Any]:
    return db.session.execute(select(Campus.id, Campus.slug, Campus.name)
                              .order_by(Campus.name)).all()


def _render_hq(values: dict, errors: dict | None = None, message: str | None = None,
               status: int = 200):
    args = _statement_args()
    campuses = _campuses()
    campus_id = next((c.id for c in campuses if c.slug == args["campus"]), None)
    month = parse_month(args["month"]) if args["month"] else None
    if args["campus"] and campus_id is None:
        campus_id = -1  # an unknown campus has no statement
    with all_campuses(db.session):
        pagination = db.paginate(statements_query(month, campus_id), page=args["page"],
                                 per_page=PER_PAGE, max_per_page=MAX_PER_PAGE, error_out=False)
    filters = {k: args[k] for k in ("month", "campus") if args[k]}
    last = session.pop(LAST_RUN_KEY, None) if status == 200 else None
    return render_template(
        "royalties/hq.html", pagination=pagination, filters=filters, values=values,
        errors=errors or {}, message=message, campuses=campuses,
        names={c.id: c.name for c in campuses}, slugs={c.id: c.slug for c in campuses},
        last_run=last, latest_month=previous_month(utcnow().date())), status


def _default_month_value() -> str:
    return f"{previous_month(utcnow().date()):%Y-%m}"


@bp.get("")
@on_sites(SiteKind.HQ, SiteKind.CAMPUS)
@roles_required(*READERS)
def index():
    site = current_site()
    if site is not None and site.kind is SiteKind.HQ:
        return _render_hq({"month": _default_month_value()})
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(statements_query(), page=page, per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("royalties/campus.html", pagination=pagination, campus=g.campus)


@bp.post("/run")
@on_sites(SiteKind.HQ)
@roles_required(*HQ)
def run():
    values = {"month": request.form.get("month", "").strip()}
    try:
        month = parse_month(RunMonthSchema().load(values)["month"])
        today = utcnow().date()
        check_month_is_over(month, today)
        result = issue_royalties(month, today=today, actor_id=current_user.id)
    except ValidationError as error:
        db.session.rollback()
        return _render_hq(values, _flat(error.messages), status=422)
    except AppError as error:
        db.session.rollback()
        return _render_hq(values, error.fields, error.message, error.status)
    session[LAST_RUN_KEY] = result.as_dict()
    flash(run_summary(result, limit=10), "success")
    return redirect(url_for("royalties.index", month=f"{month:%Y-%m}"))


# --- rates ---------------------------------------------------------------------------------


def field_name(campus: str, stream: str) -> str:
    return f"rate-{campus}-{stream}"


def _render_rates(values: dict[str, str] | None = None, errors: dict | None = None,
                  message: str | None = None, status: int = 200):
    grid = rate_grid()
    campuses: dict[str, str] = {}
    for cell in grid:
        campuses.setdefault(cell.campus, cell.campus_name)
    if values is None:
        values = {field_name(c.campus, c.stream): format(c.rate, "f") for c in grid}
    return render_template(
        "royalties/rates.html", campuses=campuses, streams=list(RevenueStream),
        stream_labels=stream_labels(), values=values, errors=errors or {}, message=message,
        field_name=field_name), status


@bp.get("/rates")
@on_sites(SiteKind.HQ)
@roles_required(*HQ)
def rates():
    return _render_rates()


@bp.post("/rates")
@on_sites(SiteKind.HQ)
@roles_required(*HQ)
def save_rates():
    """Every cell of the grid is posted; each is checked, and nothing is saved unless all are
    valid."""
    grid = rate_grid()
    values: dict[str, str] = {}
    cells, errors = [], {}
    schema = RoyaltyRateSchema()
    for cell in grid:
        name = field_name(cell.campus, cell.stream)
        raw = request.form.get(name)
        if raw is None:
            continue  # a cell not posted keeps its rate
        values[name] = raw
        try:
            cells.append(schema.load({"campus": cell.campus, "stream": cell.stream,
                                      "rate": raw.strip() or "0"}))
        except ValidationError as error:
            errors[name] = _flat(error.messages).get("rate", [_("Invalid.")])
    if not values:
        errors["_schema"] = [_("Send the grid of rates.")]
    if errors:
        for cell in grid:  # show the rest as they were, so the user can fix the bad ones
            values.setdefault(field_name(cell.campus, cell.stream), format(cell.rate, "f"))
        return _render_rates(values, errors, status=422)
    try:
        changed = set_rates(cells)
    except AppError as error:
        db.session.rollback()
        return _render_rates(values, error.fields, error.message, error.status)
    flash(_("Saved the royalty rates (%(count)d changed).", count=changed), "success")
    return redirect(url_for("royalties.rates"))
