"""Base data shared by the suite: always two campuses, so isolation is exercised everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from billing.agreements.models import Agreement
from billing.currencies.services import set_rate
from billing.entities.models import BillingEntity, PaymentProvider
from billing.impact.models import ImpactTarget
from billing.invoices.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
)
from billing.invoices.vat import structured_communication
from billing.ledger.models import EntrySource, RevenueEntry, RevenueStream
from billing.ledger.services import record_entry
from billing.payments.models import Order, OrderPurpose
from billing.royalties.models import RoyaltyRate
from core.auth.models import Role, User
from core.auth.services import create_user
from core.catalogue.models import Certification, Course, CourseLevel, Track
from core.extensions import db
from core.partners.models import Partner
from tenants.applications.models import Application
from tenants.campuses.models import Campus
from tenants.campuses.services import create_campus
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.coworking.models import CoachingSession, Membership, MembershipPlan, PlanKind
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.events.models import Event, EventRegistration
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome, OutcomeKind
from tenants.scoping import campus_scope

PASSWORD = "correct-horse-battery"
HQ = "hq@campusflow.test"
PARTNER_CONTACT = "contact@microsoft.campusflow.test"
OTHER_PARTNER_CONTACT = "contact@google.campusflow.test"
# Text that appears only in each campus's own learners, to catch any leak in a response body.
MARKERS = {"molenbeek": "Zinedine-Molenbeek-Marker", "antwerp": "Ysaline-Antwerp-Marker"}
# Invoice numbers of the base data: one to Microsoft per campus, one to Google at Molenbeek.
INVOICES = {"molenbeek": "MOL-2026-0001", "antwerp": "ANT-2026-0001"}
GOOGLE_INVOICE = "MOL-2026-0002"
ENTITY_CODES = {"molenbeek": "MOL", "antwerp": "ANT"}


def manager(slug: str) -> str:
    return f"manager@{slug}.campusflow.test"


def staff(slug: str) -> str:
    return f"staff@{slug}.campusflow.test"


@dataclass(frozen=True)
class BaseData:
    campus_ids: dict[str, int]
    learner_ids: dict[str, list[int]]
    partner_id: int
    other_partner_id: int
    # kind ("cohort", "application", …) → campus slug → ids of that campus's rows
    owned: dict[str, dict[str, list[int]]]
    # catalogue (global): "course", "track", "certification" → ids
    catalogue: dict[str, list[int]]


# Campus-owned kinds in the base data, with their models, for tests that need one of each.
OWNED_MODELS = {
    "cohort": Cohort,
    "application": Application,
    "enrolment": Enrolment,
    "award": CertificationAward,
    "outcome": Outcome,
    "plan": MembershipPlan,
    "membership": Membership,
    "session": CoachingSession,
    "event": Event,
    "registration": EventRegistration,
    "entry": RevenueEntry,
    "invoice": Invoice,
    "order": Order,
}


def create_catalogue() -> Course:
    track = Track(slug="cybersecurity", name="Cybersecurity")
    certifications = [
        Certification(issuer="Microsoft", exam_code="SC-900",
                      name="Security, Compliance, and Identity Fundamentals"),
        Certification(issuer="Microsoft", exam_code="AZ-500", name="Azure Security Engineer"),
    ]
    course = Course(code="CYB-101", track=track, hours=420, level=CourseLevel.BEGINNER,
                    title_en="Cybersecurity analyst", title_fr="Analyste en cybersécurité",
                    description_en="From networks to the SOC.", certifications=certifications)
    db.session.add(course)
    db.session.flush()
    return course


def create_campus_life(slug: str, course: Course, coach: User) -> None:
    """One row of every campus-owned kind, names carrying the campus marker (bound campus)."""
    marker = MARKERS[slug]
    learner = db.session.scalar(select(Learner).order_by(Learner.id).limit(1))
    cohort = Cohort(course_id=course.id, starts_on=date(2027, 1, 11), ends_on=date(2027, 6, 30),
                    schedule="Mon-Fri 9:00-16:00", seats=12, language="fr", price_minor=0,
                    currency="EUR", funding=Funding.FREE, status=CohortStatus.OPEN)
    db.session.add(cohort)
    db.session.flush()
    application = Application(cohort_id=cohort.id, full_name=f"{marker} applicant",
                              email=f"applicant@{slug}.example", motivation="I want to learn.",
                              consent_given_at=datetime(2026, 11, 1, tzinfo=UTC))
    enrolment = Enrolment(cohort_id=cohort.id, learner_id=learner.id,
                          status=EnrolmentStatus.ENROLLED)
    award = CertificationAward(learner_id=learner.id, certification_id=course.certifications[0].id,
                               awarded_on=date(2026, 10, 1))
    outcome = Outcome(learner_id=learner.id, kind=OutcomeKind.EMPLOYED, employer="Proximus",
                      occurred_on=date(2026, 10, 15))
    plan = MembershipPlan(name="Monthly desk", kind=PlanKind.MONTHLY, price_minor=9900,
                          currency="EUR")
    db.session.add_all([application, enrolment, award, outcome, plan])
    db.session.flush()
    membership = Membership(plan_id=plan.id, learner_id=learner.id, member_name=f"{marker} member",
                            member_email=f"member@{slug}.example", starts_on=date(2026, 11, 1))
    # Event titles are public: no marker in them (registrations carry it).
    event = Event(title=f"{slug.title()} tech meetup",
                  starts_at=datetime(2027, 2, 1, 18, tzinfo=UTC),
                  ends_at=datetime(2027, 2, 1, 20, tzinfo=UTC), capacity=40, price_minor=0,
                  currency="EUR")
    db.session.add_all([membership, event])
    db.session.flush()
    db.session.add_all([
        CoachingSession(membership_id=membership.id, coach_id=coach.id,
                        held_on=date(2026, 11, 10), duration_minutes=45),
        EventRegistration(event_id=event.id, full_name=f"{marker} guest",
                          email=f"guest@{slug}.example"),
    ])
    db.session.flush()
    record_entry(occurred_on=date(2026, 11, 3), stream=RevenueStream.COWORKING,
                 amount_minor=12000, currency="EUR", source=EntrySource.MANUAL,
                 memo=f"{marker} desk rental")
    db.session.add(Order(purpose=OrderPurpose.MEMBERSHIP, provider=PaymentProvider.STRIPE,
                         membership_id=membership.id, description="Monthly desk",
                         payer_name=f"{marker} member", payer_email=f"member@{slug}.example",
                         amount_minor=9900, currency="EUR"))
    db.session.flush()


def _issued_invoice(entity: BillingEntity, partner: Partner, number: str, sequence: int,
                    agreement: Agreement | None) -> Invoice:
    """An issued invoice as the invoice service leaves it (bound campus), numbered by hand."""
    invoice = Invoice(
        kind=InvoiceKind.PARTNER, status=InvoiceStatus.ISSUED, issuer_id=entity.id, number=number,
        year=2026, sequence=sequence, partner_id=partner.id,
        agreement_id=agreement.id if agreement else None, period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31), currency="EUR", vat_rate=Decimal("0"),
        reverse_charge=True, subtotal_minor=100000, vat_minor=0, total_minor=100000,
        issuer_details={"name": entity.legal_name, "vat_number": entity.vat_number,
                        "country": entity.country, "address": entity.address,
                        "iban": entity.iban, "bic": entity.bic},
        recipient_details={"name": partner.name, "vat_number": partner.vat_number,
                           "country": partner.country, "address": partner.address},
        structured_communication=structured_communication(entity.id, 2026, sequence),
        issued_on=date(2026, 11, 2), due_on=date(2026, 12, 2))
    db.session.add(invoice)
    db.session.flush()
    db.session.add(InvoiceLine(invoice_id=invoice.id, position=1, quantity=1,
                               description=f"{partner.name} programme, October 2026",
                               unit_minor=100000, amount_minor=100000))
    db.session.flush()
    return invoice


def create_base_data() -> None:
    partner = Partner(slug="microsoft", name="Microsoft", country="IE", vat_number="IE8256796U",
                      address="One Microsoft Place, Dublin 18", billing_email="ap@microsoft.test")
    google = Partner(slug="google", name="Google", country="IE", vat_number="IE6388047V",
                     address="Gordon House, Barrow Street, Dublin 4")
    db.session.add_all([partner, google])
    db.session.flush()
    course = create_catalogue()
    hq = BillingEntity(code="HQ", legal_name="Campusflow HQ SRL", address="Rue de Ribaucourt 27, "
                       "1080 Brussels", country="BE", vat_number="BE0123456749",
                       vat_rate=Decimal("21"), iban="BE71096123456769", bic="GKCCBEBB")
    db.session.add(hq)
    set_rate(date(2024, 1, 1), "MAD", Decimal("10.80"))
    set_rate(date(2026, 11, 2), "MAD", Decimal("10.85"))
    db.session.add(ImpactTarget(label="Microsoft cybersecurity", partner_id=partner.id,
                                track_id=course.track_id, trained_target=150,
                                certified_target=60))
    create_user(HQ, Role.HQ_ADMIN, PASSWORD, full_name="HQ Admin")
    create_user(PARTNER_CONTACT, Role.PARTNER_CONTACT, PASSWORD, partner_id=partner.id)
    create_user(OTHER_PARTNER_CONTACT, Role.PARTNER_CONTACT, PASSWORD, partner_id=google.id)
    agreement = Agreement(
        title="Microsoft cybersecurity programme", partner_id=partner.id,
        track_id=course.track_id, currency="EUR", starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31), fixed_fee_minor=1200000, instalments=12,
        per_admitted_minor=10000, per_completion_minor=30000, per_certified_minor=50000,
        trained_target=150, certified_target=60)
    db.session.add(agreement)
    db.session.flush()
    for slug, city, locale in (("molenbeek", "Brussels", "fr_BE"), ("antwerp", "Antwerp", "nl_BE")):
        campus = create_campus(slug=slug, name=slug.title(), city=city, country="BE",
                               currency="EUR", timezone="Europe/Brussels", locale=locale,
                               status="open")
        campus_manager = create_user(manager(slug), Role.CAMPUS_MANAGER, PASSWORD,
                                     campus_id=campus.id)
        create_user(staff(slug), Role.CAMPUS_STAFF, PASSWORD, campus_id=campus.id)
        entity = BillingEntity(
            campus_id=campus.id, code=ENTITY_CODES[slug], legal_name=f"Campusflow {city} SRL",
            address=f"{city}, Belgium", country="BE",
            vat_number={"molenbeek": "BE0456789034", "antwerp": "BE0765432146"}[slug],
            vat_rate=Decimal("21"), iban="BE68539007547034", bic="BBRUBEBB")
        db.session.add(entity)
        db.session.flush()
        agreement.campuses.append(campus)
        for stream, rate in ((RevenueStream.TRAINING, "5"), (RevenueStream.COWORKING, "3")):
            db.session.add(RoyaltyRate(campus_id=campus.id, stream=stream, rate=Decimal(rate)))
        db.session.add(InvoiceSequence(issuer_id=entity.id, year=2026,
                                       last_number=2 if slug == "molenbeek" else 1))
        with campus_scope(campus.id, db.session):
            for i in range(3):
                db.session.add(Learner(full_name=f"{MARKERS[slug]} {i}",
                                       email=f"learner{i}@{slug}.example", phone="+32 2 555 01 0"))
            db.session.flush()
            create_campus_life(slug, course, campus_manager)
            _issued_invoice(entity, partner, INVOICES[slug], 1, agreement)
            if slug == "molenbeek":
                _issued_invoice(entity, google, GOOGLE_INVOICE, 2, None)
    db.session.commit()


def load_base_data() -> BaseData:
    campuses = {c.slug: c.id for c in db.session.scalars(select(Campus))}
    learners: dict[str, list[int]] = {}
    owned: dict[str, dict[str, list[int]]] = {kind: {} for kind in OWNED_MODELS}
    for slug, campus_id in campuses.items():
        with campus_scope(campus_id, db.session):
            learners[slug] = list(db.session.scalars(select(Learner.id).order_by(Learner.id)))
            for kind, model in OWNED_MODELS.items():
                owned[kind][slug] = list(db.session.scalars(select(model.id).order_by(model.id)))
    partner_id = db.session.scalar(select(Partner.id).where(Partner.slug == "microsoft"))
    other_partner_id = db.session.scalar(select(Partner.id).where(Partner.slug == "google"))
    assert db.session.scalar(select(User.id).where(User.email == HQ)) is not None
    catalogue = {
        "course": list(db.session.scalars(select(Course.id))),
        "track": list(db.session.scalars(select(Track.id))),
        "certification": list(db.session.scalars(select(Certification.id))),
        "target": list(db.session.scalars(select(ImpactTarget.id))),
    }
    catalogue["agreement"] = list(db.session.scalars(select(Agreement.id)))
    return BaseData(campuses, learners, partner_id, other_partner_id, owned, catalogue)
