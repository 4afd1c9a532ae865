"""E-mail to a partner when one of its invoices, or a credit note, is issued (core.mail).

Queued by `issue_invoice` (billing/invoices/services.py), sent once the transaction commits: to
each active contact of the partner, in the contact's language (else the issuing campus's
default), and to the partner's billing address (in the campus's default), with the PDF (made
once, and only when the messages really leave: SMTP or the outbox). Royalty statements (HQ to a
campus) send nothing.
"""

from __future__ import annotations

from functools import cache, partial

from flask import current_app
from sqlalchemy import select

from billing.invoices.models import Invoice
from billing.invoices.vat import format_communication
from core.auth.models import Role, User
from core.extensions import db
from core.mail import Attachment, send
from core.partners.models import Partner
from core.sites import site_url
from tenants.campuses.models import Campus


def recipients(invoice: Invoice) -> list[tuple[str, str, str]]:
    """(e-mail, name, language) of everyone told about `invoice`, contacts first."""
    partner = db.session.get(Partner, invoice.partner_id) if invoice.partner_id else None
    if partner is None:
        return []
    campus = db.session.get(Campus, invoice.campus_id)
    fallback = campus.default_locale if campus is not None else "en"
    contacts = db.session.scalars(
        select(User).where(User.partner_id == partner.id, User.role == Role.PARTNER_CONTACT,
                           User.is_active.is_(True)).order_by(User.id))
    found = [(user.email, user.full_name, getattr(user, "locale", None) or fallback)
             for user in contacts]
    billing = (partner.billing_email or "").strip()
    if billing and billing.lower() not in {email.lower() for email, _name, _lang in found}:
        found.append((billing, partner.name, fallback))
    return found


def _pdf(invoice: Invoice) -> bytes:
    from billing.invoices.services import render_pdf

    db.session.expire(invoice, ["lines"])  # lines were added by id: read them as issued
    return render_pdf(invoice)


def invoice_issued(invoice: Invoice) -> None:
    """Queue the e-mail about the issued `invoice` (its campus bound) to its partner."""
    told = recipients(invoice)
    if not told:
        return
    pdf = Attachment(f"{invoice.number}.pdf", cache(partial(_pdf, invoice)), "application/pdf")
    credited = (db.session.get(Invoice, (invoice.campus_id, invoice.credits_invoice_id))
                if invoice.credits_invoice_id else None)
    config = current_app.config
    issuer, recipient = invoice.issuer_details or {}, invoice.recipient_details or {}
    digits = invoice.structured_communication
    context = {
        "invoice": invoice, "credit_note": credited is not None,
        "credited_number": credited.number if credited is not None else "",
        "issuer_name": issuer.get("name", ""), "partner_name": recipient.get("name", ""),
        "iban": issuer.get("iban") or "",
        "communication": format_communication(digits) if digits else "",
        "invoice_url": site_url(config["CAMPUSFLOW_DOMAIN"], "partners",
                                f"/invoices/{invoice.number}", config["PREFERRED_URL_SCHEME"]),
    }
    for email, name, language in told:
        send(email, "invoice_issued", language, attachments=[pdf], recipient_name=name,
             **context)
