"""Demo billing set-up: HQ's and each campus's billing entity, partners' invoicing details, the
partner agreements (Microsoft's cybersecurity programme at Molenbeek, Proximus at Antwerp and
Charleroi) and the royalty rates. Safe to run twice: what exists is left alone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from billing.agreements.models import Agreement
from billing.agreements.runs import invoice_partners
from billing.entities.models import BillingEntity
from billing.entities.services import HQ_CODE, entity_for_campus
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.invoices.services import mark_invoice_paid
from billing.ledger.models import RevenueStream
from billing.royalties.models import RoyaltyRate
from billing.royalties.runs import issue_royalties
from core.catalogue.models import Track
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses, campus_scope

PARTNER_DETAILS = {  # slug: address, billing e-mail
    "microsoft": ("One Microsoft Place, South County Business Park, Dublin 18, Ireland",
                  "ap-emea@microsoft.example"),
    "google": ("Gordon House, Barrow Street, Dublin 4, Ireland", "billing@google.example"),
    "aws": ("38 Avenue John F. Kennedy, 1855 Luxembourg", "invoices@aws.example"),
    "proximus": ("Boulevard du Roi Albert II 27, 1030 Brussels, Belgium",
                 "accounts.payable@proximus.example"),
    "samsung": ("Evert van de Beekstraat 310, 1118 CX Schiphol, Netherlands",
                "finance@samsung.example"),
}
# Belgian campuses' VAT numbers: BE, eight digits, then 97 - (those eight mod 97).
BELGIAN_VAT_BASES = {"molenbeek": 4567890, "antwerp": 7654321, "charleroi": 6123456}
ROYALTY_RATES = {RevenueStream.TRAINING: "6", RevenueStream.COWORKING: "4",
                 RevenueStream.EVENTS: "4", RevenueStream.SPONSORSHIP: "5",
                 RevenueStream.OTHER: "3"}


def _belgian_vat(base: int) -> str:
    return f"BE{base:08d}{97 - base % 97:02d}"


def _entities() -> None:
    if db.session.scalar(select(BillingEntity.id).where(BillingEntity.code == HQ_CODE)) is None:
        db.session.add(BillingEntity(
            code=HQ_CODE, legal_name="Campusflow Network SRL",
            address="Rue de Ribaucourt 27, 1080 Brussels, Belgium", country="BE",
            vat_number="BE0123456749", vat_rate=Decimal("21"), iban="BE71096123456769",
            bic="GKCCBEBB"))
    for campus in db.session.scalars(select(Campus).order_by(Campus.id)):
        entity = entity_for_campus(campus)
        if campus.slug in BELGIAN_VAT_BASES and not entity.vat_number:
            entity.vat_number = _belgian_vat(BELGIAN_VAT_BASES[campus.slug])
            entity.iban = entity.iban or "BE68539007547034"
            entity.bic = entity.bic or "BBRUBEBB"
            entity.legal_name = f"Campusflow {campus.city} SRL"
            entity.address = f"{campus.city}, Belgium"


def _partners() -> None:
    for partner in db.session.scalars(select(Partner)):
        address, email = PARTNER_DETAILS.get(partner.slug, ("", None))
        if not partner.address and address:
            partner.address, partner.billing_email = address, email


def _agreement(title: str, partner: str, track: str | None, campuses: list[str],
               start: date, end: date, **terms: int) -> None:
    if db.session.scalar(select(Agreement.id).where(Agreement.title == title)):
        return
    partner_row = db.session.scalar(select(Partner).where(Partner.slug == partner))
    campus_rows = list(db.session.scalars(select(Campus).where(Campus.slug.in_(campuses))))
    if partner_row is None or not campus_rows:
        return
    track_id = (db.session.scalar(select(Track.id).where(Track.slug == track))
                if track else None)
    db.session.add(Agreement(title=title, partner_id=partner_row.id, track_id=track_id,
                             currency="EUR", starts_on=start, ends_on=end, campuses=campus_rows,
                             **terms))


def seed_billing(_password: str, today: date | None = None) -> list[str]:
    today = today or date.today()
    _entities()
    _partners()
    two_years_ago = (today.replace(day=1) - timedelta(days=730)).replace(day=1)
    _agreement("Microsoft cybersecurity programme", "microsoft", "cybersecurity", ["molenbeek"],
               two_years_ago, today.replace(year=today.year + 1, day=1) - timedelta(days=1),
               fixed_fee_minor=7_200_000, instalments=36, per_admitted_minor=15_000,
               per_completion_minor=40_000, per_certified_minor=60_000, trained_target=150,
               certified_target=60)
    _agreement("Proximus digital inclusion", "proximus", None, ["antwerp", "charleroi"],
               today.replace(month=1, day=1), today.replace(month=12, day=31),
               fixed_fee_minor=2_400_000, instalments=12)
    for campus_id in db.session.scalars(select(Campus.id)):
        existing = set(db.session.scalars(
            select(RoyaltyRate.stream).where(RoyaltyRate.campus_id == campus_id)))
        for stream, rate in ROYALTY_RATES.items():
            if stream not in existing:
                db.session.add(RoyaltyRate(campus_id=campus_id, stream=stream,
                                           rate=Decimal(rate)))
    db.session.commit()
    _past_runs(today)
    return []


def _past_runs(today: date) -> None:
    """Partner invoices and royalty statements of the two months before last (last month is
    left for HQ to run), the older month's partner invoices paid by transfer."""
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    older = (last_month - timedelta(days=1)).replace(day=1)
    oldest = (older - timedelta(days=1)).replace(day=1)
    for month in (oldest, older):
        invoice_partners(month, today=month.replace(day=28) + timedelta(days=5))
        issue_royalties(month, today=month.replace(day=28) + timedelta(days=5))
    with all_campuses(db.session):
        unpaid = db.session.execute(
            select(Invoice.campus_id, Invoice.id).where(
                Invoice.kind == InvoiceKind.PARTNER, Invoice.status == InvoiceStatus.ISSUED,
                Invoice.period_start == oldest)).all()
    db.session.commit()
    for campus_id, invoice_id in unpaid:
        with campus_scope(campus_id, db.session):
            invoice = db.session.get(Invoice, (campus_id, invoice_id))
            mark_invoice_paid(invoice, paid_on=invoice.issued_on + timedelta(days=12),
                              reference="Bank transfer (demo)")
            db.session.commit()
