"""The invoice rules: draft, issue (gapless numbering), mark paid (into the ledger), credit.

Services never read the request; they flush, never commit. An invoice belongs to the bound campus
(the issuing campus for a partner invoice, the billed campus for a royalty statement): HQ acts on
one by binding `campus_scope(invoice.campus_id)`.

Numbers are given at issue from `invoice_sequences`, one row per issuer and year, incremented by a
single `INSERT … ON CONFLICT DO UPDATE … RETURNING` that holds the row lock until the transaction
ends: two issues racing on PostgreSQL queue on that row, and a rolled-back issue gives its number
back, so a year's numbers run 1..N without a gap or a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from babel.numbers import is_currency
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from billing.entities.models import BillingEntity
from billing.entities.services import entity_for_campus_id
from billing.invoices import guards  # noqa: F401  (the ORM refuses edits of issued invoices)
from billing.invoices.mails import invoice_issued as mail_invoice_issued
from billing.invoices.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
)
from billing.invoices.vat import (
    format_communication,
    invoice_number,
    is_invoice_number,
    structured_communication,
    vat_amount,
    vat_for,
)
from billing.invoices.wording import status_label
from billing.ledger.models import EntrySource, RevenueEntry, RevenueStream
from billing.ledger.services import record_entry, reverse_entry
from core.database import utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from core.partners.models import Partner
from tenants.scoping import all_campuses, bound_campus_id

__all__ = [
    "LineInput",
    "create_invoice",
    "credit_invoice",
    "format_communication",
    "get_invoice",
    "issue_invoice",
    "mark_invoice_paid",
    "partner_invoice",
    "render_pdf",
]

MAX_LINES = 200
MAX_QUANTITY = 1_000_000
MAX_UNIT_MINOR = 10**12
DESCRIPTION_MAX = 300
NOTES_MAX = 2000
REFERENCE_MAX = 120
VISIBLE_TO_PARTNERS = (InvoiceStatus.ISSUED, InvoiceStatus.PAID, InvoiceStatus.VOID)


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: int
    unit_minor: int


def _transition_error(invoice: Invoice, action: str) -> Conflict:
    return Conflict(
        _("Invoice %(number)s is %(status)s: it cannot be %(action)s.",
          number=invoice.number or _("(draft)"), status=status_label(invoice.status).lower(),
          action=action),
        code="invalid_transition")


def _lock(invoice: Invoice) -> Invoice:
    """The invoice's row, locked until the transaction ends and re-read (a racing request may
    have changed it since it was loaded)."""
    locked = db.session.scalar(
        select(Invoice).where(Invoice.campus_id == invoice.campus_id, Invoice.id == invoice.id)
        .with_for_update().execution_options(populate_existing=True))
    if locked is None:
        raise NotFound(_("No such invoice."))
    return locked


# ---- drafts -----------------------------------------------------------------------------------


def _check_lines(lines: Sequence[LineInput]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not lines:
        return {"lines": [_("An invoice needs at least one line.")]}
    if len(lines) > MAX_LINES:
        return {"lines": [_("At most %(n)d lines.", n=MAX_LINES)]}
    for index, line in enumerate(lines):
        problems = []
        if not isinstance(line.description, str) or not line.description.strip():
            problems.append(_("Line %(n)d needs a description.", n=index + 1))
        elif len(line.description.strip()) > DESCRIPTION_MAX:
            problems.append(_("Line %(n)d: at most %(max)d characters.", n=index + 1,
                              max=DESCRIPTION_MAX))
        if (isinstance(line.quantity, bool) or not isinstance(line.quantity, int)
                or not 0 < line.quantity <= MAX_QUANTITY):
            problems.append(_("Line %(n)d: the quantity is a whole number from 1 to %(max)d.",
                              n=index + 1, max=MAX_QUANTITY))
        if (isinstance(line.unit_minor, bool) or not isinstance(line.unit_minor, int)
                or abs(line.unit_minor) > MAX_UNIT_MINOR):
            problems.append(_("Line %(n)d: the unit price is a whole number of minor units.",
                              n=index + 1))
        if problems:
            errors.setdefault("lines", []).extend(problems)
    return errors


def _recipient(kind: InvoiceKind, partner: Partner | None) -> dict[str, Any]:
    """Who is billed, as printed on the invoice."""
    if kind is InvoiceKind.ROYALTY:
        entity = entity_for_campus_id(bound_campus_id())
        return {"name": entity.legal_name, "address": entity.address, "country": entity.country,
                "vat_number": entity.vat_number or "", "iban": entity.iban, "bic": entity.bic,
                "code": entity.code}
    assert partner is not None
    return {"name": partner.name, "address": partner.address or "",
            "country": partner.country or "", "vat_number": partner.vat_number or "",
            "iban": "", "bic": "", "email": partner.billing_email or ""}


def _issuer_details(issuer: BillingEntity) -> dict[str, Any]:
    return {"name": issuer.legal_name, "address": issuer.address, "country": issuer.country,
            "vat_number": issuer.vat_number or "", "iban": issuer.iban, "bic": issuer.bic,
            "code": issuer.code, "payment_terms_days": issuer.payment_terms_days}


def _apply_vat(invoice: Invoice, issuer: BillingEntity) -> None:
    """VAT rate, reverse charge and totals from the issuer and the recipient's details."""
    recipient = invoice.recipient_details
    vat = vat_for(issuer.country, issuer.vat_rate, recipient.get("country"),
                  recipient.get("vat_number"))
    invoice.vat_rate, invoice.reverse_charge = vat.rate, vat.reverse_charge
    invoice.vat_minor = vat_amount(invoice.subtotal_minor, vat.rate)
    invoice.total_minor = invoice.subtotal_minor + invoice.vat_minor


def _check_parties(kind: InvoiceKind, issuer: BillingEntity, partner: Partner | None,
                   campus_id: int) -> dict[str, list[str]]:
    if kind is InvoiceKind.CREDIT_NOTE:
        return {"kind": [_("A credit note is made by crediting an issued invoice.")]}
    if kind is InvoiceKind.ROYALTY:
        if not issuer.is_hq:
            return {"issuer": [_("Royalty statements are issued by HQ.")]}
        if partner is not None:
            return {"partner": [_("A royalty statement bills the campus, not a partner.")]}
        return {}
    errors: dict[str, list[str]] = {}
    if partner is None:
        errors["partner"] = [_("Choose the partner to invoice.")]
    if issuer.campus_id != campus_id:
        errors["issuer"] = [_("A partner invoice is issued by the campus's own entity.")]
    return errors


def create_invoice(*, kind: InvoiceKind, issuer: BillingEntity, currency: str,
                   lines: Sequence[LineInput], partner: Partner | None = None,
                   agreement_id: int | None = None, period_start: date | None = None,
                   period_end: date | None = None, run_key: str | None = None,
                   notes: str = "", actor_id: int | None = None) -> Invoice:
    """A DRAFT invoice for the bound campus, its lines, VAT and totals.

    The recipient is `partner` (kind partner) or the bound campus's own entity (kind royalty,
    issued by HQ). Raises InvalidInput for bad lines, parties, currency or period (nothing is
    written), Conflict `already_invoiced` when the campus already has an invoice with `run_key`
    (also when a concurrent run inserted it first).
    """
    campus_id = bound_campus_id()
    if campus_id is None:
        raise NotFound(_("No campus is bound."))
    kind = InvoiceKind(kind)
    errors = _check_parties(kind, issuer, partner, campus_id)
    errors.update(_check_lines(lines))
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper() \
            or not is_currency(currency):
        errors["currency"] = [_("An ISO currency code such as EUR.")]
    if period_start and period_end and period_start > period_end:
        errors["period_end"] = [_("The period ends on or after its first day.")]
    if len(notes or "") > NOTES_MAX:
        errors["notes"] = [_("At most %(max)d characters.", max=NOTES_MAX)]
    if run_key is not None and not (0 < len(run_key) <= 120):
        errors["run_key"] = [_("At most 120 characters.")]
    subtotal = sum(line.quantity * line.unit_minor for line in lines) if not errors else 0
    if not errors and subtotal <= 0:
        errors["lines"] = [_("The total must be above zero; a credit note corrects an "
                             "invoice.")]
    if errors:
        raise InvalidInput(_("The invoice is not valid."), errors)
    if run_key is not None and db.session.scalar(
            select(Invoice.id).where(Invoice.run_key == run_key)):
        raise Conflict(_("This run already made its invoice (%(key)s).", key=run_key),
                       {"run_key": [run_key]}, code="already_invoiced")
    invoice = Invoice(
        kind=kind, status=InvoiceStatus.DRAFT, issuer_id=issuer.id,
        partner_id=partner.id if partner else None, agreement_id=agreement_id, run_key=run_key,
        period_start=period_start, period_end=period_end, currency=currency,
        subtotal_minor=subtotal, notes=(notes or "").strip(), created_by_id=actor_id,
        issuer_details=_issuer_details(issuer), recipient_details=_recipient(kind, partner))
    _apply_vat(invoice, issuer)
    try:
        with db.session.begin_nested():  # a racing run with the same key loses cleanly
            db.session.add(invoice)
            db.session.flush()
            _add_lines(invoice, lines)
    except IntegrityError as error:
        raise Conflict(_("This run already made its invoice (%(key)s).", key=run_key),
                       {"run_key": [run_key]}, code="already_invoiced") from error
    db.session.expire(invoice, ["lines"])
    return invoice


def _add_lines(invoice: Invoice, lines: Sequence[LineInput]) -> None:
    db.session.add_all([
        InvoiceLine(invoice_id=invoice.id, position=position, description=line.description.strip(),
                    quantity=line.quantity, unit_minor=line.unit_minor,
                    amount_minor=line.quantity * line.unit_minor)
        for position, line in enumerate(lines, start=1)])
    db.session.flush()


# ---- issue ------------------------------------------------------------------------------------


def _upsert(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def next_sequence(issuer_id: int, year: int) -> int:
    """The issuer's next number in `year`, taken under the sequence row's lock (held until the
    transaction ends, so a rollback returns the number)."""
    table = InvoiceSequence.__table__
    statement = _upsert(db.session.get_bind().dialect.name)(table).values(
        issuer_id=issuer_id, year=year, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=["issuer_id", "year"],
        set_={"last_number": table.c.last_number + 1},
    ).returning(table.c.last_number)
    return int(db.session.execute(statement).scalar_one())


def issue_invoice(invoice: Invoice, *, issued_on: date, actor_id: int | None = None) -> Invoice:
    """draft → issued: the next number of the issuer's year, due date, structured
    communication, issuer and recipient copied onto the invoice, VAT computed again from them.

    Raises Conflict `invalid_transition` unless the invoice is a draft.
    """
    invoice = _lock(invoice)
    if invoice.status is not InvoiceStatus.DRAFT:
        raise _transition_error(invoice, _("issued"))
    if not isinstance(issued_on, date):
        raise InvalidInput(_("The invoice needs an issue date."),
                           {"issued_on": [_("A date.")]})
    issuer = db.session.get(BillingEntity, invoice.issuer_id)
    if invoice.kind is not InvoiceKind.CREDIT_NOTE:
        partner = db.session.get(Partner, invoice.partner_id) if invoice.partner_id else None
        invoice.issuer_details = _issuer_details(issuer)
        invoice.recipient_details = _recipient(invoice.kind, partner)
        # The lines as stored are what gets issued, even if a draft's lines were changed.
        invoice.subtotal_minor = int(db.session.scalar(
            select(func.coalesce(func.sum(InvoiceLine.amount_minor), 0))
            .where(InvoiceLine.invoice_id == invoice.id)))
        if invoice.subtotal_minor <= 0:
            raise InvalidInput(_("An invoice is issued for an amount above zero."),
                               {"lines": [_("The total must be above zero.")]})
        _apply_vat(invoice, issuer)
    sequence = next_sequence(issuer.id, issued_on.year)
    invoice.year, invoice.sequence = issued_on.year, sequence
    invoice.number = invoice_number(issuer.code, issued_on.year, sequence)
    invoice.structured_communication = structured_communication(issuer.id, issued_on.year,
                                                                sequence)
    invoice.issued_on = issued_on
    invoice.due_on = issued_on + timedelta(days=issuer.payment_terms_days)
    invoice.status = InvoiceStatus.ISSUED
    db.session.flush()
    mail_invoice_issued(invoice)  # to the partner, once the transaction commits
    return invoice


# ---- paid -------------------------------------------------------------------------------------


def mark_invoice_paid(invoice: Invoice, *, paid_on: date, actor_id: int | None = None,
                      reference: str = "") -> Invoice:
    """issued → paid. A partner invoice's payment becomes one ledger entry of the invoice's
    campus (stream sponsorship, its amount before VAT, `invoice:<number>`); a royalty statement
    is only marked paid (HQ keeps no campus ledger).

    Already paid → the invoice unchanged (a replayed payment counts once). Raises Conflict
    `invalid_transition` for a draft, a void invoice or a credit note.
    """
    invoice = _lock(invoice)
    if invoice.status is InvoiceStatus.PAID:
        return invoice
    if invoice.status is not InvoiceStatus.ISSUED or invoice.kind is InvoiceKind.CREDIT_NOTE:
        raise _transition_error(invoice, _("marked paid"))
    reference = " ".join((reference or "").split())
    if len(reference) > REFERENCE_MAX:
        raise InvalidInput(_("The payment reference is too long."),
                           {"reference": [_("At most %(max)d characters.", max=REFERENCE_MAX)]})
    if not isinstance(paid_on, date):
        raise InvalidInput(_("When was it paid?"), {"paid_on": [_("A date.")]})
    if invoice.issued_on and paid_on < invoice.issued_on:
        raise InvalidInput(_("An invoice is paid on or after its issue date."),
                           {"paid_on": [_("On or after %(day)s.",
                                          day=invoice.issued_on.isoformat())]})
    if invoice.kind is InvoiceKind.PARTNER:
        entry = record_entry(
            occurred_on=paid_on, stream=RevenueStream.SPONSORSHIP,
            amount_minor=invoice.subtotal_minor, currency=invoice.currency,
            source=EntrySource.INVOICE, source_key=f"invoice:{invoice.number}",
            memo=_("Invoice %(number)s (%(partner)s)", number=invoice.number,
                   partner=invoice.recipient_details.get("name", "")),
            actor_id=actor_id)
        invoice.entry_id = entry.id
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = utcnow()
    invoice.paid_by_id = actor_id
    invoice.payment_reference = reference
    db.session.flush()
    return invoice


# ---- credit -----------------------------------------------------------------------------------


def credit_invoice(invoice: Invoice, *, issued_on: date, reason: str,
                   actor_id: int | None = None) -> Invoice:
    """An issued credit note cancelling `invoice` (negative lines and amounts, the next number
    of the issuer's sequence, a reference to the original); the original becomes void and, if
    it was paid, its ledger entry is reversed.

    Raises InvalidInput without a reason, Conflict `invalid_transition` for a draft, a void
    invoice or a credit note.
    """
    invoice = _lock(invoice)
    if (invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PAID)
            or invoice.kind is InvoiceKind.CREDIT_NOTE):
        raise _transition_error(invoice, _("credited"))
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(_("Say why the invoice is credited."),
                           {"reason": [_("Say why the invoice is credited.")]})
    if len(reason) > NOTES_MAX:
        raise InvalidInput(_("The reason is too long."),
                           {"reason": [_("At most %(max)d characters.", max=NOTES_MAX)]})
    if not isinstance(issued_on, date) or (invoice.issued_on and issued_on < invoice.issued_on):
        raise InvalidInput(_("A credit note is dated on or after the invoice it credits."),
                           {"issued_on": [_("On or after %(day)s.",
                                            day=invoice.issued_on.isoformat())]})
    original_lines = list(db.session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
        .order_by(InvoiceLine.position)))
    note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.DRAFT, issuer_id=invoice.issuer_id,
        partner_id=invoice.partner_id, agreement_id=invoice.agreement_id,
        credits_invoice_id=invoice.id, period_start=invoice.period_start,
        period_end=invoice.period_end, currency=invoice.currency, vat_rate=invoice.vat_rate,
        reverse_charge=invoice.reverse_charge, subtotal_minor=-invoice.subtotal_minor,
        vat_minor=-invoice.vat_minor, total_minor=-invoice.total_minor,
        issuer_details=dict(invoice.issuer_details),
        recipient_details=dict(invoice.recipient_details),
        notes=_("Credit note for invoice %(number)s: %(reason)s", number=invoice.number,
                reason=reason),
        created_by_id=actor_id)
    db.session.add(note)
    db.session.flush()
    db.session.add_all([
        InvoiceLine(invoice_id=note.id, position=line.position, description=line.description,
                    quantity=line.quantity, unit_minor=-line.unit_minor,
                    amount_minor=-line.amount_minor)
        for line in original_lines])
    db.session.flush()
    note = issue_invoice(note, issued_on=issued_on, actor_id=actor_id)
    if invoice.status is InvoiceStatus.PAID and invoice.entry_id is not None:
        entry = db.session.get(RevenueEntry, (invoice.campus_id, invoice.entry_id))
        if entry is not None:
            reverse_entry(entry, memo=_("Credit note %(note)s for invoice %(number)s",
                                        note=note.number, number=invoice.number),
                          actor_id=actor_id)
    invoice.status = InvoiceStatus.VOID
    db.session.flush()
    return note


# ---- reads ------------------------------------------------------------------------------------


DRAFT_PREFIX = "DRAFT-"


def reference_of(invoice: Invoice) -> str:
    """What `/invoices/<number>` takes: the number, or `DRAFT-<id>` for a draft."""
    return invoice.number or f"{DRAFT_PREFIX}{invoice.id}"


def _lookup(number: str) -> Select:
    """The statement finding `number` (a number, or `DRAFT-<id>`); NotFound if malformed."""
    if not isinstance(number, str) or not is_invoice_number(number):
        raise NotFound(_("No such invoice."))
    if number.startswith(DRAFT_PREFIX):
        draft_id = number.removeprefix(DRAFT_PREFIX)
        if not draft_id.isdigit() or len(draft_id) > 18:
            raise NotFound(_("No such invoice."))
        return select(Invoice).where(Invoice.id == int(draft_id),
                                     Invoice.status == InvoiceStatus.DRAFT)
    return select(Invoice).where(Invoice.number == number)


def get_invoice(number: str) -> Invoice:
    """The bound campus's invoice `number` (or draft `DRAFT-<id>`); raises NotFound for any
    other (or when no campus is bound)."""
    statement = _lookup(number)
    if bound_campus_id() is None:
        raise NotFound(_("No such invoice."))
    invoice = db.session.scalar(statement.limit(1))
    if invoice is None:
        raise NotFound(_("No such invoice."))
    return invoice


def invoice_campus_id(number: str) -> int:
    """The campus an invoice belongs to, read across campuses (HQ); raises NotFound."""
    statement = _lookup(number).with_only_columns(Invoice.campus_id).limit(1)
    with all_campuses(db.session):
        campus_id = db.session.scalar(statement)
    if campus_id is None:
        raise NotFound(_("No such invoice."))
    return campus_id


def partner_invoice(number: str, partner_id: int) -> Invoice:
    """That partner's issued, paid or void invoice (or credit note) `number`, read across
    campuses with its lines loaded; raises NotFound for drafts, other partners' invoices and
    royalty statements."""
    if not isinstance(number, str) or not is_invoice_number(number):
        raise NotFound(_("No such invoice."))
    with all_campuses(db.session):
        invoice = db.session.scalar(
            select(Invoice).where(Invoice.number == number, Invoice.partner_id == partner_id,
                                  Invoice.kind != InvoiceKind.ROYALTY,
                                  Invoice.status.in_(VISIBLE_TO_PARTNERS))
            .options(selectinload(Invoice.lines), selectinload(Invoice.issuer),
                     selectinload(Invoice.partner)))
    if invoice is None:
        raise NotFound(_("No such invoice."))
    return invoice


def invoices_query(*, q: str = "", status: InvoiceStatus | None = None,
                   kind: InvoiceKind | None = None, partner_id: int | None = None,
                   campus_id: int | None = None) -> Select:
    """Invoices, newest first (drafts on top), with their partner loaded: search `q` in the
    number and the partner's name. Run it under the bound campus, or `all_campuses` for HQ."""
    statement = (select(Invoice).outerjoin(Partner, Partner.id == Invoice.partner_id)
                 .options(contains_eager(Invoice.partner), selectinload(Invoice.issuer))
                 .order_by(Invoice.issued_on.desc().nulls_first(), Invoice.id.desc()))
    q = " ".join((q or "").split())
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(Invoice.number.ilike(pattern, escape="\\"),
                                        Partner.name.ilike(pattern, escape="\\")))
    if status is not None:
        statement = statement.where(Invoice.status == status)
    if kind is not None:
        statement = statement.where(Invoice.kind == kind)
    if partner_id is not None:
        statement = statement.where(Invoice.partner_id == partner_id,
                                    Invoice.kind != InvoiceKind.ROYALTY,
                                    Invoice.status.in_(VISIBLE_TO_PARTNERS))
    if campus_id is not None:
        statement = statement.where(Invoice.campus_id == campus_id)
    return statement


def credited_numbers(invoices: Iterable[Invoice]) -> dict[int, str]:
    """Numbers of the invoices these credit notes cancel (one query, none if no credit note)."""
    keys = {(i.campus_id, i.credits_invoice_id) for i in invoices if i.credits_invoice_id}
    if not keys:
        return {}
    rows = db.session.execute(
        select(Invoice.campus_id, Invoice.id, Invoice.number)
        .where(Invoice.id.in_({key[1] for key in keys})))
    return {row.id: row.number for row in rows if (row.campus_id, row.id) in keys}


def credit_notes_of(invoice: Invoice) -> list[Invoice]:
    """The credit notes that cancel `invoice` (its campus bound)."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.credits_invoice_id == invoice.id).order_by(Invoice.id)))


def render_pdf(invoice: Invoice) -> bytes:
    """The invoice as a PDF document (see billing.invoices.pdf)."""
    from billing.invoices.pdf import invoice_pdf

    return invoice_pdf(invoice)
