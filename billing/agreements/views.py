"""HQ's agreement pages (list, form, detail with invoices and progress) and the partner invoice
run page (`/invoice-runs`: a month, a button, the run's result and the month's invoices).

The run is synchronous: at the network's scale (a few agreements x a few campuses) it takes
well under a second per invoice, so the page shows the finished run's progress (pairs processed
out of pairs due) rather than a live bar; the CLI shows a live one.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.routing import BuildError

from billing.agreements.api import EDITORS
from billing.agreements.runs import (
    RunResult,
    check_month_is_over,
    invoice_partners,
    month_label,
    parse_month,
    previous_month,
    run_summary,
)
from billing.agreements.schemas import AgreementArgsSchema, AgreementFormSchema, RunMonthSchema
from billing.agreements.services import (
    agreement_progress,
    agreements_query,
    campus_names,
    create_agreement,
    form_choices,
    get_agreement,
    invoices_query,
    update_agreement,
)
from billing.invoices.models import Invoice, InvoiceKind
from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.database import like_pattern, utcnow
from core.errors import AppError
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites
from tenants.scoping import all_campuses

bp = Blueprint("agreements", __name__, url_prefix="/agreements")
runs_bp = Blueprint("invoice_runs", __name__, url_prefix="/invoice-runs")

PER_PAGE = 25
INVOICES_PER_PAGE = 50
LAST_RUN_KEY = "last_invoice_run"


def _flat(messages: Any) -> dict[str, list[str]]:
    if not isinstance(messages, dict):
        return {"_schema": [str(m) for m in messages]}
    return {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}


def invoice_links(number: str | None) -> dict[str, str]:
    """The invoice's page and PDF on this site (`hq.` shows every campus's invoices, a campus
    site its own), where the invoice pages exist."""
    links: dict[str, str] = {}
    if not number:
        return links
    for name, endpoint in (("page", "invoices.show"), ("pdf", "invoices.pdf")):
        try:
            links[name] = url_for(endpoint, number=number)
        except BuildError:
            continue
    return links


@bp.app_context_processor
def billing_run_helpers() -> dict[str, Any]:
    return {"invoice_links": invoice_links, "month_label": month_label}


# --- agreements ----------------------------------------------------------------------------


def _list_args() -> dict[str, Any]:
    """The list filters; a malformed one is dropped rather than refused."""
    values = {k: v for k, v in request.args.to_dict().items()
              if k in ("q", "partner", "active", "page")}
    try:
        return AgreementArgsSchema().load(values, unknown="exclude")
    except ValidationError as error:
        kept = {k: v for k, v in values.items() if k not in error.messages}
        return AgreementArgsSchema().load(kept, unknown="exclude")


def _period_status(agreement, today) -> str:
    if agreement.starts_on > today:
        return _("upcoming")
    return _("ended") if agreement.ends_on < today else _("running")


def _fee(name: str):
    return lambda a: (getattr(a, name), a.currency)


def agreement_columns(today) -> tuple[Column, ...]:
    return (
        Column(_l("Agreement"), lambda a: a.title, width=36),
        Column(_l("Partner"), lambda a: a.partner.name),
        Column(_l("Track"), lambda a: a.track.name if a.track else _("any")),
        Column(_l("Campuses"), lambda a: ", ".join(c.name for c in a.campuses), width=36),
        Column(_l("Starts"), lambda a: a.starts_on, "date"),
        Column(_l("Ends"), lambda a: a.ends_on, "date"),
        Column(_l("Currency"), lambda a: a.currency, width=10),
        Column(_l("Fixed fee per campus"), _fee("fixed_fee_minor"), "money"),
        Column(_l("Instalments"), lambda a: a.instalments, "number"),
        Column(_l("Per learner admitted"), _fee("per_admitted_minor"), "money"),
        Column(_l("Per completion"), _fee("per_completion_minor"), "money"),
        Column(_l("Per learner certified"), _fee("per_certified_minor"), "money"),
        Column(_l("Trained target"), lambda a: a.trained_target, "number"),
        Column(_l("Certified target"), lambda a: a.certified_target, "number"),
        Column(_l("Status"), lambda a: _period_status(a, today)),
    )


@bp.get("")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
@exportable
def index():
    fmt = requested_format()
    args = _list_args()
    statement = agreements_query(args["q"], args["partner"], args["active"])
    if fmt:
        return table_response(fmt, "agreements", agreement_columns(utcnow().date()),
                              stream(statement))
    pagination = db.paginate(statement,
                             page=args["page"], per_page=PER_PAGE, max_per_page=MAX_PER_PAGE,
                             error_out=False)
    filters = {k: ("yes" if v is True else "no" if v is False else v)
               for k, v in args.items() if k in ("q", "partner", "active") and v not in (None, "")}
    return render_template("agreements/index.html", pagination=pagination, filters=filters,
                           choices=form_choices(), today=utcnow().date())


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = {name: request.form.get(name, "")
                              for name in AgreementFormSchema().fields if name != "campuses"}
    values["campuses"] = request.form.getlist("campuses")
    return values


def _render_form(agreement, values: dict, errors: dict, message: str | None = None,
                 status: int = 200):
    return render_template("agreements/form.html", agreement=agreement, values=values,
                           errors=errors, message=message, choices=form_choices()), status


def _save(agreement=None):
    values = _form_values()
    try:
        data = AgreementFormSchema().load(values)
        saved = update_agreement(agreement, data) if agreement else create_agreement(data)
    except ValidationError as error:
        db.session.rollback()
        return _render_form(agreement, values, _flat(error.messages), status=422)
    except AppError as error:
        db.session.rollback()
        return _render_form(agreement, values, error.fields, error.message, error.status)
    flash(_("Saved the agreement “%(title)s”.", title=saved.title), "success")
    return redirect(url_for("agreements.detail", agreement_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def new():
    if request.method == "POST":
        return _save()
    today = utcnow().date()
    return _render_form(None, {"currency": "EUR", "instalments": "1",
                               "starts_on": today.replace(day=1).isoformat()}, {})


def _amount(minor: int, currency: str) -> str:
    from core.money import to_major

    return format(to_major(minor, currency), "f")


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def edit(agreement_id: int):
    agreement = get_agreement(agreement_id)
    if request.method == "POST":
        return _save(agreement)
    currency = agreement.currency
    values = {
        "title": agreement.title, "partner": agreement.partner.slug,
        "track": agreement.track.slug if agreement.track else "",
        "campuses": [c.slug for c in agreement.campuses], "currency": currency,
        "starts_on": agreement.starts_on.isoformat(), "ends_on": agreement.ends_on.isoformat(),
        "instalments": agreement.instalments,
        "fixed_fee": _amount(agreement.fixed_fee_minor, currency),
        "per_admitted": _amount(agreement.per_admitted_minor, currency),
        "per_completion": _amount(agreement.per_completion_minor, currency),
        "per_certified": _amount(agreement.per_certified_minor, currency),
        "trained_target": "" if agreement.trained_target is None else agreement.trained_target,
        "certified_target": ("" if agreement.certified_target is None
                             else agreement.certified_target),
    }
    return _render_form(agreement, values, {})


@bp.get("/<int:agreement_id>")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def detail(agreement_id: int):
    agreement = get_agreement(agreement_id)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with all_campuses(db.session):
        invoices = db.paginate(invoices_query(agreement.id), page=page,
                               per_page=INVOICES_PER_PAGE, max_per_page=MAX_PER_PAGE,
                               error_out=False)
    return render_template("agreements/detail.html", agreement=agreement, invoices=invoices,
                           campuses=campus_names(), progress=agreement_progress(agreement),
                           today=utcnow().date())


# --- invoice runs ----------------------------------------------------------------------------


def run_invoices_query(month_key: str, search: str = ""):
    """The partner invoices of the runs of a month (`YYYY-MM`), every campus; `search` finds a
    part of the invoice number (taken literally)."""
    statement = (select(Invoice)
                 .where(Invoice.kind == InvoiceKind.PARTNER,
                        Invoice.run_key.like(f"agreement:%:{month_key}"))
                 .order_by(Invoice.campus_id, Invoice.number))
    if term := search.strip():
        statement = statement.where(Invoice.number.ilike(like_pattern(term), escape="\\"))
    return statement


def run_invoice_columns(campuses: dict[int, tuple[str, str]]) -> tuple[Column, ...]:
    return (
        Column(_l("Number"), lambda i: i.number or _("draft"), width=16),
        Column(_l("Campus"), lambda i: campuses.get(i.campus_id, ("", ""))[1]),
        Column(_l("Partner"), lambda i: (i.recipient_details or {}).get("name", "")),
        Column(_l("From"), lambda i: i.period_start, "date"),
        Column(_l("To"), lambda i: i.period_end, "date"),
        Column(_l("Issued"), lambda i: i.issued_on, "date"),
        Column(_l("Total"), lambda i: (i.total_minor, i.currency), "money"),
        Column(_l("Currency"), lambda i: i.currency, width=10),
        Column(_l("Status"), lambda i: i.status.value, width=10),
        Column(_l("Agreement"), lambda i: i.agreement_id, "number"),
    )


def _shown_month(value: str | None):
    today = utcnow().date()
    try:
        month = parse_month(value or "")
        check_month_is_over(month, today)
    except AppError:
        month = previous_month(today)
    return month


def _render_runs(values: dict, errors: dict | None = None, message: str | None = None,
                 status: int = 200):
    month = _shown_month(values.get("month"))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    search = request.args.get("q", "")[:200].strip()
    with all_campuses(db.session):
        invoices = db.paginate(run_invoices_query(f"{month:%Y-%m}", search), page=page,
                               per_page=INVOICES_PER_PAGE, max_per_page=MAX_PER_PAGE,
                               error_out=False)
    last = session.pop(LAST_RUN_KEY, None) if status == 200 else None
    return render_template(
        "agreements/runs.html", values=values, errors=errors or {}, message=message,
        month=month, invoices=invoices, campuses=campus_names(), last_run=last, search=search,
        latest_month=previous_month(utcnow().date())), status


@runs_bp.get("", endpoint="index")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
@exportable
def runs_index():
    fmt = requested_format()
    month = _shown_month(request.args.get("month"))
    if fmt:
        statement = run_invoices_query(f"{month:%Y-%m}", request.args.get("q", "")[:200])
        with all_campuses(db.session):
            return table_response(fmt, f"partner-invoices-{month:%Y-%m}",
                                  run_invoice_columns(campus_names()), stream(statement))
    return _render_runs({"month": f"{month:%Y-%m}"})


@runs_bp.post("")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def run():
    values = {"month": request.form.get("month", "").strip()}
    try:
        month = parse_month(RunMonthSchema().load(values)["month"])
        result: RunResult = invoice_partners(month, today=utcnow().date(),
                                             actor_id=current_user.id)
    except ValidationError as error:
        db.session.rollback()
        return _render_runs(values, _flat(error.messages), status=422)
    except AppError as error:
        db.session.rollback()
        return _render_runs(values, error.fields, error.message, error.status)
    session[LAST_RUN_KEY] = result.as_dict()
    flash(run_summary(result, limit=10), "success")
    return redirect(url_for("invoice_runs.index", month=f"{month:%Y-%m}"))
