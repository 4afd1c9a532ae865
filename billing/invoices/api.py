"""`/api/v1/invoices` on campus sites, on `hq.` and on `partners.`, each with its own visibility.

* campus site (manager, HQ): the campus's invoices, drafts included, and the royalty statements
  it received (read-only unless HQ); actions issue, mark-paid (a transfer), credit;
* `hq.` (HQ): every campus's invoices, read across campuses; an action binds the invoice's campus;
* `partners.` (the partner's contact): that partner's issued, paid and void invoices only; another
  partner's invoice is a 404.

Staff see no money (403). Another campus's invoice on a campus site is a 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema
from sqlalchemy import select

from billing.entities.models import PaymentProvider
from billing.entities.services import entity_for_campus
from billing.invoices.models import Invoice, InvoiceKind
from billing.invoices.schemas import (
    CreditInputSchema,
    HqInvoiceArgsSchema,
    HqInvoiceSchema,
    InvoiceArgsSchema,
    InvoiceInputSchema,
    InvoiceSchema,
    IssueInputSchema,
    MarkPaidInputSchema,
    PartnerInvoiceArgsSchema,
    PartnerInvoiceSchema,
)
from billing.invoices.services import (
    LineInput,
    create_invoice,
    credit_invoice,
    credited_numbers,
    get_invoice,
    invoice_campus_id,
    invoices_query,
    issue_invoice,
    mark_invoice_paid,
    partner_invoice,
)
from core.api import MAX_PER_PAGE, load_args, load_json
from core.auth.access import roles_required
from core.auth.models import Role
from core.errors import Forbidden, InvalidInput
from core.extensions import db
from core.openapi import documented
from core.partners.models import Partner
from core.sites import SiteKind, current_site, on_sites
from tenants.campuses.models import Campus
from tenants.campuses.services import today_at
from tenants.scoping import all_campuses, bound_campus_id, campus_scope

bp = Blueprint("invoices_api", __name__, url_prefix="/api/v1/invoices")

MANAGERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER)
READERS = (Role.HQ_ADMIN, Role.CAMPUS_MANAGER, Role.PARTNER_CONTACT)
READ_SITES = (SiteKind.CAMPUS, SiteKind.HQ, SiteKind.PARTNERS)
ACTION_SITES = (SiteKind.CAMPUS, SiteKind.HQ)


def site_kind() -> SiteKind:
    site = current_site()
    return site.kind if site else SiteKind.PUBLIC


def campus_today() -> date:
    """Today at the bound campus (the request's, or the invoice's when HQ acts on it)."""
    campus = db.session.get(Campus, bound_campus_id())
    return today_at(campus)


@contextmanager
def invoice_for_request(number: str) -> Iterator[Invoice]:
    """The invoice `number` as this site may see it, its campus bound for the block.

    Campus site: the campus's own; `hq.`: any campus's (its campus bound while HQ works on it);
    `partners.`: the signed-in partner's issued/paid/void one (read across campuses, lines
    loaded). Anything else raises NotFound.
    """
    kind = site_kind()
    if kind is SiteKind.PARTNERS:
        yield partner_invoice(number, current_user.partner_id)
    elif kind is SiteKind.HQ:
        with campus_scope(invoice_campus_id(number), db.session):
            yield get_invoice(number)
    else:
        yield get_invoice(number)


def may_manage(invoice: Invoice) -> bool:
    """Royalty statements (and their credit notes) are HQ's to act on; a campus reads them."""
    royalty = invoice.kind is InvoiceKind.ROYALTY or (
        invoice.kind is InvoiceKind.CREDIT_NOTE and invoice.partner_id is None)
    return current_user.role is Role.HQ_ADMIN or not royalty


def check_may_manage(invoice: Invoice) -> None:
    if not may_manage(invoice):
        raise Forbidden(_("HQ issues royalty statements and records their payment."))


@dataclass
class InvoicePage:
    items: list[Invoice]
    page: int
    per_page: int
    total: int
    pages: int
    has_prev: bool
    has_next: bool
    prev_num: int | None
    next_num: int | None
    numbers: dict[int, str]
    campus_slugs: dict[int, str]


def _page(statement, page: int, per_page: int, slugs: dict[int, str]) -> InvoicePage:
    result = db.paginate(statement, page=page, per_page=per_page, error_out=False,
                         max_per_page=MAX_PER_PAGE)
    items = list(result.items)
    return InvoicePage(items, result.page, result.per_page, result.total or 0, result.pages,
                       result.has_prev, result.has_next, result.prev_num, result.next_num,
                       credited_numbers(items), slugs)


def invoice_page(args: dict[str, Any]) -> InvoicePage:
    """One page of the invoices this site shows (3 queries at most)."""
    kind = site_kind()
    filters = {"q": args["q"], "status": args.get("status"), "kind": args.get("kind")}
    if kind is SiteKind.CAMPUS:
        return _page(invoices_query(**filters), args["page"], args["per_page"], {})
    with all_campuses(db.session):
        if kind is SiteKind.PARTNERS:
            return _page(invoices_query(**filters, partner_id=current_user.partner_id),
                         args["page"], args["per_page"], {})
        slugs = {row.id: row.slug for row in db.session.execute(select(Campus.id, Campus.slug))}
        campus_id = None
        if args.get("campus"):
            campus_id = next((i for i, slug in slugs.items() if slug == args["campus"]), -1)
        return _page(invoices_query(**filters, campus_id=campus_id), args["page"],
                     args["per_page"], slugs)


def args_schema() -> Schema:
    return {SiteKind.HQ: HqInvoiceArgsSchema, SiteKind.PARTNERS: PartnerInvoiceArgsSchema
            }.get(site_kind(), InvoiceArgsSchema)()


def output_schema(page: InvoicePage | None = None, **kwargs: Any) -> Schema:
    numbers = page.numbers if page else kwargs.pop("numbers", {})
    kind = site_kind()
    if kind is SiteKind.PARTNERS:
        return PartnerInvoiceSchema(numbers=numbers, **kwargs)
    if kind is SiteKind.HQ:
        slugs = page.campus_slugs if page else kwargs.pop("campus_slugs", {})
        return HqInvoiceSchema(numbers=numbers, campus_slugs=slugs, **kwargs)
    return InvoiceSchema(numbers=numbers, **kwargs)


def dump_one(invoice: Invoice) -> dict[str, Any]:
    """The invoice with its lines, as this site's audience sees it (campus still bound)."""
    extra: dict[str, Any] = {}
    if site_kind() is SiteKind.HQ:
        extra["campus_slugs"] = {invoice.campus_id: db.session.get(Campus,
                                                                   invoice.campus_id).slug}
    if invoice.credits_invoice_id and site_kind() is SiteKind.PARTNERS:
        with all_campuses(db.session):
            numbers = credited_numbers([invoice])
    else:
        numbers = credited_numbers([invoice])
    return output_schema(numbers=numbers, with_lines=True, **extra).dump(invoice)


def optional_json(schema: Schema) -> dict[str, Any]:
    """A body that may be left out entirely."""
    return load_json(schema) if request.get_data() else schema.load({})


# ---- reads ------------------------------------------------------------------------------------


@bp.get("")
@documented("Invoices this site shows: the campus's own and the royalty statements it received "
            "(campus), every campus's (hq), the signed-in partner's issued/paid/void ones "
            "(partners)", query=HqInvoiceArgsSchema, response=HqInvoiceSchema, paginated=True,
            errors=(401, 403, 422))
@on_sites(*READ_SITES)
@roles_required(*READERS)
def list_invoices():
    page = invoice_page(load_args(args_schema()))
    return {"items": output_schema(page).dump(page.items, many=True), "page": page.page,
            "per_page": page.per_page, "total": page.total}


@bp.get("/<number>")
@documented("One invoice with its lines (`DRAFT-<id>` for a draft; campus and hq only)",
            response=HqInvoiceSchema, errors=(401, 403, 404))
@on_sites(*READ_SITES)
@roles_required(*READERS)
def show(number: str):
    with invoice_for_request(number) as invoice:
        return dump_one(invoice)


# ---- a draft by hand --------------------------------------------------------------------------


@bp.post("")
@documented("A draft invoice to a partner from this campus, in the campus's currency (VAT "
            "and reverse charge computed; issue it to number it)", body=InvoiceInputSchema,
            response=InvoiceSchema, status=201, errors=(401, 403, 422))
@on_sites(SiteKind.CAMPUS)
@roles_required(*MANAGERS)
def create():
    data = load_json(InvoiceInputSchema())
    partner = db.session.get(Partner, data["partner_id"])
    if partner is None:
        raise InvalidInput(_("No such partner."), {"partner_id": [_("No such partner.")]})
    invoice = create_invoice(
        kind=InvoiceKind.PARTNER, issuer=entity_for_campus(g.campus),
        currency=g.campus.currency, partner=partner,
        lines=[LineInput(line["description"], line["quantity"], line["unit_minor"])
               for line in data["lines"]],
        period_start=data["period_start"], period_end=data["period_end"], notes=data["notes"],
        actor_id=current_user.id)
    return dump_one(invoice), 201


# ---- actions ----------------------------------------------------------------------------------


def _input(schema_class: type[Schema], *, required: bool) -> dict[str, Any]:
    schema = schema_class(today=campus_today())
    return load_json(schema) if required else optional_json(schema)


@bp.post("/<number>/issue")
@documented("Issue a draft: its number (gapless per issuer and year), due date and structured "
            "communication (409 `invalid_transition` unless a draft)", body=IssueInputSchema,
            response=HqInvoiceSchema, errors=(401, 403, 404, 409, 422))
@on_sites(*ACTION_SITES)
@roles_required(*MANAGERS)
def issue(number: str):
    with invoice_for_request(number) as invoice:
        check_may_manage(invoice)
        data = _input(IssueInputSchema, required=False)
        issued = issue_invoice(invoice, issued_on=data["issued_on"] or campus_today(),
                               actor_id=current_user.id)
        return dump_one(issued)


@bp.post("/<number>/mark-paid")
@documented("Record the transfer that paid an issued invoice: a partner invoice's payment "
            "enters the campus's ledger once (already paid: unchanged)",
            body=MarkPaidInputSchema, response=HqInvoiceSchema,
            errors=(401, 403, 404, 409, 422))
@on_sites(*ACTION_SITES)
@roles_required(*MANAGERS)
def mark_paid(number: str):
    with invoice_for_request(number) as invoice:
        check_may_manage(invoice)
        data = _input(MarkPaidInputSchema, required=True)
        paid = mark_invoice_paid(invoice, paid_on=data["paid_on"], reference=data["reference"],
                                 actor_id=current_user.id)
        return dump_one(paid)


@bp.post("/<number>/credit")
@documented("Credit an issued or paid invoice: an issued credit note (returned) voids it and "
            "reverses its ledger entry if it was paid", body=CreditInputSchema,
            response=HqInvoiceSchema, status=201, errors=(401, 403, 404, 409, 422))
@on_sites(*ACTION_SITES)
@roles_required(*MANAGERS)
def credit(number: str):
    with invoice_for_request(number) as invoice:
        check_may_manage(invoice)
        data = _input(CreditInputSchema, required=True)
        note = credit_invoice(invoice, issued_on=data["issued_on"] or campus_today(),
                              reason=data["reason"], actor_id=current_user.id)
        return dump_one(note), 201


def pay_url(invoice: Invoice) -> str | None:
    """The card payment page of this invoice (billing.payments), when it exists and applies."""
    if ("payments.pay_invoice" not in current_app.view_functions
            or invoice.kind is not InvoiceKind.PARTNER or invoice.status.value != "issued"
            or invoice.issuer.payment_provider is not PaymentProvider.STRIPE):
        return None
    return url_for("payments.pay_invoice", number=invoice.number)

