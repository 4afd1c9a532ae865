"""Invoice pages on campus sites (manager, HQ), on `hq.` (every campus) and on `partners.`.

* `/invoices`: search by number or partner, filter by status and kind, pages, an empty state;
* `/invoices/<number>`: the invoice, its lines and totals, and what can be done next: issue a
  draft, record the transfer that paid it, credit it (each a confirmation form with its CSRF
  token); on `partners.`, how to pay (card, or transfer with the structured communication);
* `/invoices/<number>.pdf`: the PDF.

The rules live in billing.invoices.services; the site decides what is visible (see api.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, ValidationError
from sqlalchemy import select

from billing.invoices.api import (
    ACTION_SITES,
    MANAGERS,
    READ_SITES,
    READERS,
    args_schema,
    campus_today,
    invoice_for_request,
    invoice_page,
    may_manage,
    pay_url,
    site_kind,
)
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.invoices.schemas import CreditInputSchema, IssueInputSchema, MarkPaidInputSchema
from billing.invoices.services import (
    credit_invoice,
    credit_notes_of,
    credited_numbers,
    invoices_query,
    issue_invoice,
    mark_invoice_paid,
    reference_of,
    render_pdf,
)
from billing.invoices.vat import format_communication
from billing.invoices.wording import kind_label, status_label, vat_mention
from core.auth.access import roles_required
from core.errors import AppError
from core.exports import Column, batches, exportable, requested_format, stream, table_response
from core.extensions import db
from core.money import format_money
from core.sites import SiteKind, on_sites
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses

bp = Blueprint("invoices", __name__, url_prefix="/invoices")


def status_labels() -> dict[InvoiceStatus, str]:
    return {status: status_label(status) for status in InvoiceStatus}


def kind_labels() -> dict[InvoiceKind, str]:
    return {kind: kind_label(kind) for kind in InvoiceKind}


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"status_labels": status_labels(), "kind_labels": kind_labels(),
            "ref": reference_of, "communication": format_communication,
            "SiteKind": SiteKind, "site_kind": site_kind(), "InvoiceStatus": InvoiceStatus,
            "InvoiceKind": InvoiceKind}


def _form_values() -> dict[str, str]:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    return values


def _billed_to(invoice: Invoice) -> str:
    return invoice.partner.name if invoice.partner else (invoice.recipient_details or {}).get(
        "name", "")


def export_columns(campus_slugs: dict[int, str] | None) -> tuple[Column, ...]:
    """Rows: (invoice, numbers of the invoices credit notes cancel); the campus on `hq.`."""
    campus = (Column(_l("Campus"), lambda row: campus_slugs.get(row[0].campus_id, ""), width=14),
              ) if campus_slugs is not None else ()
    return (
        Column(_l("Number"), lambda row: row[0].number or _("Draft #%(id)d", id=row[0].id),
               width=16),
        Column(_l("Kind"), lambda row: kind_label(row[0].kind)),
        Column(_l("Credits"), lambda row: row[1].get(row[0].credits_invoice_id), width=16),
        *campus,
        Column(_l("Billed to"), lambda row: _billed_to(row[0])),
        Column(_l("Issued"), lambda row: row[0].issued_on, "date"),
        Column(_l("Due"), lambda row: row[0].due_on, "date"),
        Column(_l("Subtotal"), lambda row: (row[0].subtotal_minor, row[0].currency), "money"),
        Column(_l("VAT"), lambda row: (row[0].vat_minor, row[0].currency), "money"),
        Column(_l("Total"), lambda row: (row[0].total_minor, row[0].currency), "money"),
        Column(_l("Currency"), lambda row: row[0].currency, width=10),
        Column(_l("Status"), lambda row: status_labels()[row[0].status]),
        Column(_l("Paid"), lambda row: row[0].paid_at, "datetime"),
    )


def _with_credited(invoices):
    for batch in batches(invoices):
        numbers = credited_numbers(batch)
        yield from ((invoice, numbers) for invoice in batch)


def _export(fmt: str, args: dict[str, Any]):
    """Every invoice the list shows with these filters, as this site sees them (see
    `invoice_page`)."""
    kind = site_kind()
    filters = {"q": args["q"], "status": args.get("status"), "kind": args.get("kind")}
    if kind is SiteKind.CAMPUS:
        return table_response(fmt, f"invoices-{g.campus.slug}", export_columns(None),
                              _with_credited(stream(invoices_query(**filters))))
    with all_campuses(db.session):
        if kind is SiteKind.PARTNERS:
            statement = invoices_query(**filters, partner_id=current_user.partner_id)
            return table_response(fmt, "invoices", export_columns(None),
                                  _with_credited(stream(statement)))
        slugs = {row.id: row.slug for row in db.session.execute(select(Campus.id, Campus.slug))}
        campus_id = None
        if args.get("campus"):
            campus_id = next((i for i, slug in slugs.items() if slug == args["campus"]), -1)
        statement = invoices_query(**filters, campus_id=campus_id)
        return table_response(fmt, "invoices-network", export_columns(slugs),
                              _with_credited(stream(statement)))


@bp.get("")
@on_sites(*READ_SITES)
@roles_required(*READERS)
@exportable
def index():
    if fmt := requested_format():  # invalid filters: 422, never every invoice
        return _export(fmt, args_schema().load(request.args.to_dict(), unknown=EXCLUDE))
    raw = request.args.to_dict()
    try:
        args = args_schema().load(raw, unknown=EXCLUDE)
    except ValidationError as error:
        return render_template("invoices/index.html", page=None, values=raw,
                               errors=error.messages, filters={}), 422
    page = invoice_page(args)
    filters = {key: raw.get(key) for key in ("q", "status", "kind", "campus", "per_page")
               if raw.get(key)}
    return render_template("invoices/index.html", page=page, values=raw, errors={},
                           filters=filters)


def _detail(invoice: Invoice, *, status: int = 200, **context: Any):
    """The invoice page (its campus bound, or its lines loaded on `partners.`)."""
    partners = site_kind() is SiteKind.PARTNERS
    context = {"form": None, "values": {}, "errors": {}, "message": None, **context}
    if partners:
        with all_campuses(db.session):
            numbers = credited_numbers([invoice])
    else:
        numbers = credited_numbers([invoice])
    notes = [] if partners else credit_notes_of(invoice)
    campus = None if partners else db.session.get(Campus, invoice.campus_id)
    return render_template(
        "invoices/show.html", invoice=invoice, lines=list(invoice.lines), campus=campus,
        credits_number=numbers.get(invoice.credits_invoice_id), credit_notes=notes,
        can_manage=not partners and may_manage(invoice), pay_url=pay_url(invoice),
        vat_mention=vat_mention(invoice), today=None if partners else campus_today(),
        **context), status


@bp.get("/<number>")
@on_sites(*READ_SITES)
@roles_required(*READERS)
def show(number: str):
    with invoice_for_request(number) as invoice:
        return _detail(invoice)


@bp.get("/<number>.pdf")
@on_sites(*READ_SITES)
@roles_required(*READERS)
def pdf(number: str):
    with invoice_for_request(number) as invoice:
        body = render_pdf(invoice)
        filename = f"{reference_of(invoice)}.pdf"
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _act(number: str, schema_class: type[Schema], form: str, action) -> Any:
    """GET: the confirmation form; POST: parse it, call the service, flash and redirect (or the
    form again with the errors, nothing changed)."""
    with invoice_for_request(number) as invoice:
        if not may_manage(invoice):
            return _detail(invoice, status=403,
                           message=_("HQ issues royalty statements and records their "
                                     "payment."))
        values = _form_values() if request.method == "POST" else {}
        if request.method == "GET":
            return _detail(invoice, form=form, values=values, errors={})
        try:
            data = schema_class(today=campus_today()).load(values, unknown=EXCLUDE)
            result, message = action(invoice, data)
        except ValidationError as error:
            return _detail(invoice, status=422, form=form, values=values,
                           errors=error.messages)
        except AppError as error:
            db.session.rollback()
            return _failed(number, form, values, error)
        flash(message, "success")
        return redirect(url_for("invoices.show", number=reference_of(result)))


def _failed(number: str, form: str, values: dict, error: AppError):
    """The form again after a refused action (re-read: the rollback expired everything)."""
    with invoice_for_request(number) as invoice:
        return _detail(invoice, status=error.status, form=form, values=values,
                       errors=error.fields, message=error.message)


@bp.post("/<number>/issue")
@on_sites(*ACTION_SITES)
@roles_required(*MANAGERS)
def issue(number: str):
    def action(invoice: Invoice, data: dict):
        issued = issue_invoice(invoice, issued_on=data["issued_on"] or campus_today(),
                               actor_id=current_user.id)
        return issued, _("Issued invoice %(number)s, due on %(due)s.", number=issued.number,
                         due=issued.due_on.isoformat())

    return _act(number, IssueInputSchema, "issue", action)


@bp.route("/<number>/mark-paid", methods=["GET", "POST"])
@on_sites(*ACTION_SITES)
@roles_required(*MANAGERS)
def mark_paid(number: str):
    def action(invoice: Invoice, data: dict):
        was_paid = invoice.status is InvoiceStatus.PAID
        paid = mark_invoice_paid(invoice, paid_on=data["paid_on"], reference=data["reference"],
                                 actor_id=current_user.id)
        if was_paid:
            return paid, _("Invoice %(number)s was already paid.", number=paid.number)
        return paid, _("Invoice %(number)s marked paid (%(total)s).", number=paid.number,
                       total=format_money(paid.total_minor, paid.currency,
                                          str(get_locale() or "en")))

    return _act(number, MarkPaidInputSchema, "mark_paid", action)


@bp.route("/<number>/credit", methods=["GET", "POST"])
@on_sites(*ACTION_SITES)
@roles_required(*MANAGERS)
def credit(number: str):
    def action(invoice: Invoice, data: dict):
        note = credit_invoice(invoice, issued_on=data["issued_on"] or campus_today(),
                              reason=data["reason"], actor_id=current_user.id)
        return note, _("Credit note %(note)s issued: invoice %(number)s is void.",
                       note=note.number, number=invoice.number)

    return _act(number, CreditInputSchema, "credit", action)
