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
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import or_, select

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
from billing.royalties.services import (
    ZERO,
    rate_grid,
    rates_by_campus,
    set_rates,
    statements_query,
)
from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.auth.models import Role
from core.database import like_pattern, utcnow
from core.errors import AppError
from core.exports import Column, batches, exportable, requested_format, stream, table_response
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


def statement_columns(names: dict[int, str] | None) -> tuple[Column, ...]:
    """A statement's row; with its campus's name on `hq.` (`names`: campus id → name)."""
    campus = (Column(_l("Campus"), lambda i: names.get(i.campus_id, "")),) if names else ()
    return (
        Column(_l("Number"), lambda i: i.number or _("draft"), width=16),
        *campus,
        Column(_l("Month"), lambda i: f"{i.period_start:%Y-%m}" if i.period_start else "",
               width=10),
        Column(_l("Issued"), lambda i: i.issued_on, "date"),
        Column(_l("Due"), lambda i: i.due_on, "date"),
        Column(_l("Total"), lambda i: (i.total_minor, i.currency), "money"),
        Column(_l("Currency"), lambda i: i.currency, width=10),
        Column(_l("Status"), lambda i: i.status.value, width=10),
        Column(_l("Paid"), lambda i: i.paid_at, "datetime"),
    )


def _search() -> str:
    return request.args.get("q", "")[:200].strip()


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


def _hq_statements(args: dict[str, Any], campuses: list[Any]):
    campus_id = next((c.id for c in campuses if c.slug == args["campus"]), None)
    month = parse_month(args["month"]) if args["month"] else None
    if args["campus"] and campus_id is None:
        campus_id = -1  # an unknown campus has no statement
    return statements_query(month, campus_id, _search())


def _render_hq(values: dict, errors: dict | None = None, message: str | None = None,
               status: int = 200):
    args = _statement_args()
    campuses = _campuses()
    with all_campuses(db.session):
        pagination = db.paginate(_hq_statements(args, campuses), page=args["page"],
                                 per_page=PER_PAGE, max_per_page=MAX_PER_PAGE, error_out=False)
    filters = {k: args[k] for k in ("month", "campus") if args[k]}
    if _search():
        filters["q"] = _search()
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
@exportable
def index():
    fmt = requested_format()
    site = current_site()
    if site is not None and site.kind is SiteKind.HQ:
        if fmt:
            campuses = _campuses()
            statement = _hq_statements(_statement_args(), campuses)
            with all_campuses(db.session):
                return table_response(fmt, "royalty-statements", statement_columns(
                    {c.id: c.name for c in campuses}), stream(statement))
        return _render_hq({"month": _default_month_value()})
    statement = statements_query(search=_search())
    if fmt:
        return table_response(fmt, f"royalty-statements-{g.campus.slug}",
                              statement_columns(None), stream(statement))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(statement, page=page, per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    return render_template("royalties/campus.html", pagination=pagination, campus=g.campus,
                           search=_search())


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


def _rate_campuses(search: str):
    """The campuses of the rate grid, by name; `search` finds a part of the name or slug."""
    statement = select(Campus).order_by(Campus.name, Campus.slug)
    if search:
        pattern = like_pattern(search)
        statement = statement.where(or_(Campus.name.ilike(pattern, escape="\\"),
                                        Campus.slug.ilike(pattern, escape="\\")))
    return statement


def _rate_rows(campuses):
    """(campus, {stream value: rate}) for each campus, the rates read once per batch."""
    for batch in batches(campuses):
        rates = rates_by_campus(c.id for c in batch)
        for campus in batch:
            yield campus, {s.value: rates.get((campus.id, s.value), ZERO)
                           for s in RevenueStream}


def rate_columns() -> tuple[Column, ...]:
    labels = stream_labels()
    return (Column(_l("Campus"), lambda row: row[0].name),
            Column(_l("Slug"), lambda row: row[0].slug, width=14),
            *(Column(labels[s], lambda row, s=s: row[1][s.value] / 100, "percent")
              for s in RevenueStream))


def _render_rates(values: dict[str, str] | None = None, errors: dict | None = None,
                  message: str | None = None, status: int = 200):
    search = _search()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(_rate_campuses(search), page=page, per_page=PER_PAGE,
                             max_per_page=MAX_PER_PAGE, error_out=False)
    campuses = {c.slug: c.name for c in pagination.items}
    if values is None or errors:
        grid = {field_name(c.slug, stream): format(rate, "f")
                for c, rates in _rate_rows(pagination.items) for stream, rate in rates.items()}
        values = {**grid, **(values or {})}
    return render_template(
        "royalties/rates.html", campuses=campuses, streams=list(RevenueStream),
        stream_labels=stream_labels(), values=values, errors=errors or {}, message=message,
        field_name=field_name, pagination=pagination, search=search), status


@bp.get("/rates")
@on_sites(SiteKind.HQ)
@roles_required(*HQ)
@exportable
def rates():
    if fmt := requested_format():
        return table_response(fmt, "royalty-rates", rate_columns(),
                              _rate_rows(stream(_rate_campuses(_search()))))
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
