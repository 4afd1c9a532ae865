"""Invoices: Campusflow is their system of record.

An invoice is campus-owned: a partner invoice belongs to the campus that issues it; a royalty
statement (issued by HQ) belongs to the campus it bills. Numbers are given at issue, without
gaps per issuing entity and year, from `invoice_sequences` (a row locked by the transaction that
takes the next number, so a rolled-back issue gives its number back). Once issued an invoice is
never edited: a credit note corrects it. Issuer and recipient are copied onto the invoice when it
is issued, because a later change of address must not rewrite a legal document.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.entities.models import BillingEntity
from core.database import BigId, enum_column, utcnow
from core.extensions import db
from core.partners.models import Partner
from tenants.scoping import CampusOwned, campus_foreign_key


class InvoiceKind(StrEnum):
    PARTNER = "partner"  # a campus invoices a sponsoring partner
    ROYALTY = "royalty"  # HQ invoices a campus its royalties
    CREDIT_NOTE = "credit_note"  # corrects an issued invoice


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"  # fully credited


class Invoice(CampusOwned, db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("campus_id", "number"),
        UniqueConstraint("campus_id", "run_key"),  # an invoice run makes each invoice once
        campus_foreign_key("credits_invoice_id", "invoices"),
        campus_foreign_key("entry_id", "revenue_entries"),
        CheckConstraint("total_minor = subtotal_minor + vat_minor", name="total_adds_up"),
        CheckConstraint("status = 'draft' OR number IS NOT NULL", name="issued_has_number"),
    )

    kind: Mapped[InvoiceKind] = mapped_column(enum_column(InvoiceKind, 16))
    status: Mapped[InvoiceStatus] = mapped_column(enum_column(InvoiceStatus, 16),
                                                  default=InvoiceStatus.DRAFT)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("billing_entities.id"))
    number: Mapped[str | None] = mapped_column(String(32))
    year: Mapped[int | None]
    sequence: Mapped[int | None]
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"))
    credits_invoice_id: Mapped[int | None] = mapped_column(BigId)
    run_key: Mapped[str | None] = mapped_column(String(120))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    reverse_charge: Mapped[bool] = mapped_column(default=False)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    vat_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    issuer_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recipient_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    structured_communication: Mapped[str | None] = mapped_column(String(12))  # 12 digits
    notes: Mapped[str] = mapped_column(Text, default="")
    issued_on: Mapped[date | None]
    due_on: Mapped[date | None]
    paid_at: Mapped[datetime | None]
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payment_reference: Mapped[str] = mapped_column(String(120), default="")
    entry_id: Mapped[int | None] = mapped_column(BigId)  # the ledger entry of its payment
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    issuer: Mapped[BillingEntity] = relationship()
    partner: Mapped[Partner | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        primaryjoin="and_(foreign(InvoiceLine.campus_id) == Invoice.campus_id, "
                    "foreign(InvoiceLine.invoice_id) == Invoice.id)",
        order_by="InvoiceLine.position", viewonly=True)


class InvoiceLine(CampusOwned, db.Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        campus_foreign_key("invoice_id", "invoices"),
        UniqueConstraint("campus_id", "invoice_id", "position"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    invoice_id: Mapped[int] = mapped_column(BigId)
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    unit_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class InvoiceSequence(db.Model):
    """The last number given by an issuing entity in a year (global: HQ numbers span campuses)."""

    __tablename__ = "invoice_sequences"

    issuer_id: Mapped[int] = mapped_column(ForeignKey("billing_entities.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)
