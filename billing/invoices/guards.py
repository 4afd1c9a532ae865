"""An issued invoice is a legal document: the ORM refuses to edit or delete it, or its lines.

Once an invoice has left the draft status, only its payment state may change (status, paid_at,
paid_by_id, payment_reference, entry_id; updated_at follows): a correction is a credit note.
Bulk UPDATE/DELETE statements on invoices and lines are refused outright, since they would skip
this check.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from billing.invoices.models import Invoice, InvoiceLine, InvoiceStatus

MUTABLE_AFTER_ISSUE = frozenset({"status", "paid_at", "paid_by_id", "payment_reference",
                                 "entry_id", "updated_at"})


_CREATED_HERE = "campusflow.invoices_created"


class IssuedInvoiceIsImmutable(RuntimeError):
    """Someone tried to change an issued invoice or its lines; issue a credit note instead."""


def _status_before(invoice: Invoice) -> InvoiceStatus | None:
    """The status the database holds for `invoice` (None for a new row)."""
    state = inspect(invoice)
    if state.pending or state.transient:
        return None
    history = state.attrs.status.history
    if history.deleted:
        return InvoiceStatus(history.deleted[0])
    if history.unchanged:
        return InvoiceStatus(history.unchanged[0])
    return InvoiceStatus(invoice.status) if invoice.status is not None else None


def _changed_attributes(obj) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


def _line_invoice_issued(session: Session, line: InvoiceLine, *, adding: bool = False) -> bool:
    if adding and (line.campus_id, line.invoice_id) in session.info.get(_CREATED_HERE, ()):
        return False  # the invoice was inserted by this very transaction (e.g. test fixtures)
    with session.no_autoflush:
        invoice = session.get(Invoice, (line.campus_id, line.invoice_id)) \
            if line.campus_id is not None and line.invoice_id is not None else None
    if invoice is None:
        return False
    before = _status_before(invoice)
    return before is not None and before is not InvoiceStatus.DRAFT


def _check_changed_invoice(invoice: Invoice) -> None:
    before = _status_before(invoice)
    if before in (None, InvoiceStatus.DRAFT):
        return
    changed = _changed_attributes(invoice) - MUTABLE_AFTER_ISSUE
    if changed:
        raise IssuedInvoiceIsImmutable(
            f"Invoice {invoice.number} is {before.value}: {sorted(changed)} cannot change; "
            "issue a credit note.")


@event.listens_for(Session, "before_flush")
def _refuse_issued_invoice_changes(session: Session, _context, _instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, Invoice) and _status_before(obj) not in (None, InvoiceStatus.DRAFT):
            raise IssuedInvoiceIsImmutable("An issued invoice is never deleted; credit it.")
        if isinstance(obj, InvoiceLine) and _line_invoice_issued(session, obj):
            raise IssuedInvoiceIsImmutable("Lines of an issued invoice are never deleted.")
    for obj in session.dirty:
        if not isinstance(obj, Invoice | InvoiceLine) or not session.is_modified(obj):
            continue
        if isinstance(obj, Invoice):
            _check_changed_invoice(obj)
        elif _line_invoice_issued(session, obj):
            raise IssuedInvoiceIsImmutable("Lines of an issued invoice never change.")
    for obj in session.new:
        if isinstance(obj, InvoiceLine) and _line_invoice_issued(session, obj, adding=True):
            raise IssuedInvoiceIsImmutable("No line is added to an issued invoice.")


@event.listens_for(Session, "after_flush")
def _remember_new_invoices(session: Session, _context) -> None:
    created = [(obj.campus_id, obj.id) for obj in session.new if isinstance(obj, Invoice)]
    if created:
        session.info.setdefault(_CREATED_HERE, set()).update(created)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_new_invoices(session: Session) -> None:
    session.info.pop(_CREATED_HERE, None)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_invoice_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
            m.class_ in (Invoice, InvoiceLine) for m in state.all_mappers):
        raise IssuedInvoiceIsImmutable(
            "Invoices and their lines are changed through billing.invoices.services only.")
