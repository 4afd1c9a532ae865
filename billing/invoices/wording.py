"""What an invoice says of itself: its kind and the legal VAT mention, for pages and the PDF.

Kept apart from billing.invoices.pdf so that pages do not load the PDF library (fpdf2 and its
font tools weigh about 19 MB per worker), which only the PDF download needs.
"""

from __future__ import annotations

from flask_babel import gettext as _

from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.invoices.vat import (
    OUTSIDE_SCOPE_MENTION,
    REVERSE_CHARGE_MENTION,
    VatTreatment,
    treatment_of,
)


def status_label(status: InvoiceStatus) -> str:
    return {InvoiceStatus.DRAFT: _("Draft"), InvoiceStatus.ISSUED: _("Issued"),
            InvoiceStatus.PAID: _("Paid"), InvoiceStatus.VOID: _("Void")}[InvoiceStatus(status)]


def kind_label(kind: InvoiceKind) -> str:
    return {InvoiceKind.PARTNER: _("Invoice"), InvoiceKind.ROYALTY: _("Royalty statement"),
            InvoiceKind.CREDIT_NOTE: _("Credit note")}[InvoiceKind(kind)]


def vat_mention(invoice: Invoice) -> str | None:
    """The legal mention a zero-rated invoice must carry, if any."""
    treatment = treatment_of(invoice.reverse_charge, invoice.vat_rate,
                             (invoice.recipient_details or {}).get("country"))
    if treatment is VatTreatment.REVERSE_CHARGE:
        return REVERSE_CHARGE_MENTION
    if treatment is VatTreatment.OUTSIDE_SCOPE:
        return OUTSIDE_SCOPE_MENTION
    return None
