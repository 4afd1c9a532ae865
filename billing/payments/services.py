"""Payment rules: orders of the bound campus, card payments through the gateway, payments
recorded by hand, refunds and cancellations.

Every success lands in the ledger exactly once (source `payment`, key `order:<id>`, stream by
purpose); a partner invoice's payment goes through `mark_invoice_paid`, which records it in the
sponsorship stream. Every transition locks the order row first (PostgreSQL `FOR UPDATE`), so the
pay page and a webhook applying the same PaymentIntent at once cannot count it twice, and a
status only moves forward (`ORDER_PROGRESS`). Refunds are always of the full amount: Stripe gets
a refund for the whole PaymentIntent and the ledger a reversal of the whole entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from billing.entities.models import PaymentProvider
from billing.entities.services import entity_for_campus_id
from billing.gateway import PaymentDeclined, PaymentIntentView, PaymentsNotConfigured, gateway
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.ledger.models import EntrySource, RevenueEntry, RevenueStream
from billing.ledger.services import get_entry, record_entry, reverse_entry
from billing.payments.models import (
    Order,
    OrderPurpose,
    OrderStatus,
    StripeCustomer,
)
from core.database import like_pattern, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus
from tenants.campuses.services import today_at
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.coworking.models import Membership, MembershipPlan, MembershipStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.events.models import Event, EventRegistration, EventStatus, RegistrationStatus
from tenants.learners.models import Learner
from tenants.scoping import bound_campus_id

STREAMS = {
    OrderPurpose.COHORT_FEE: RevenueStream.TRAINING,
    OrderPurpose.MEMBERSHIP: RevenueStream.COWORKING,
    OrderPurpose.EVENT_TICKET: RevenueStream.EVENTS,
    OrderPurpose.INVOICE: RevenueStream.SPONSORSHIP,
}
# The order column naming each kind of subject.
SUBJECT_COLUMNS = {
    OrderPurpose.COHORT_FEE: "enrolment_id",
    OrderPurpose.MEMBERSHIP: "membership_id",
    OrderPurpose.EVENT_TICKET: "registration_id",
    OrderPurpose.INVOICE: "invoice_id",
}
# A subject with an order in one of these states needs no new one.
BLOCKING = (OrderStatus.OPEN, OrderStatus.PAID)
CANDIDATES_PER_KIND = 200  # the new-order form lists at most this many of each kind


# ---- lookups -----------------------------------------------------------------------------------


def bound_campus() -> Campus:
    campus_id = bound_campus_id()
    campus = db.session.get(Campus, campus_id) if campus_id else None
    if campus is None:
        raise NotFound(_("No campus is bound."))
    return campus


def get_order(order_id: int) -> Order:
    """The bound campus's order `order_id`; raises NotFound for any other one."""
    campus_id = bound_campus_id()
    order = db.session.get(Order, (campus_id, order_id)) if campus_id else None
    if order is None:
        raise NotFound(_("No such order."))
    return order


def _locked(order: Order) -> Order:
    """The order read again under a row lock (PostgreSQL), so a racing transition waits."""
    locked = db.session.get(Order, (order.campus_id, order.id), with_for_update=True,
                            populate_existing=True)
    if locked is None:  # pragma: no cover - deleted under our feet; orders are never deleted
        raise NotFound(_("No such order."))
    return locked


def orders_query(status: OrderStatus | None = None, purpose: OrderPurpose | None = None,
                 search: str = "") -> Select:
    """Orders of the bound campus, newest first; `search` matches the payer or description."""
    statement = select(Order).order_by(Order.created_at.desc(), Order.id.desc())
    if status is not None:
        statement = statement.where(Order.status == status)
    if purpose is not None:
        statement = statement.where(Order.purpose == purpose)
    if search.strip():
        pattern = like_pattern(search.strip())
        statement = statement.where(or_(Order.payer_name.ilike(pattern, escape="\\"),
                                        Order.payer_email.ilike(pattern, escape="\\"),
                                        Order.description.ilike(pattern, escape="\\")))
    return statement


def open_order_for_invoice(invoice: Invoice) -> Order | None:
    return db.session.scalar(select(Order).where(Order.invoice_id == invoice.id,
                                                 Order.status == OrderStatus.OPEN)
                             .order_by(Order.id.desc()).limit(1))


def ledger_entries(order: Order) -> dict[str, RevenueEntry | None]:
    """The order's payment entry and its reversal, if any (for its page)."""
    return {"payment": get_entry(order.entry_id) if order.entry_id else None,
            "refund": get_entry(order.refund_entry_id) if order.refund_entry_id else None}


def paid_by_card(order: Order) -> bool:
    """Whether the money came through Stripe (a refund then goes back to the card)."""
    return order.payment_intent_id is not None and order.paid_by_id is None


# ---- what can be paid --------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Something of the bound campus a person pays for, with what the order copies from it."""

    purpose: OrderPurpose
    row_id: int
    description: str
    payer_name: str
    payer_email: str
    amount_minor: int
    currency: str

    @property
    def key(self) -> str:
        """`enrolment_id:12`, the value of the new-order form's choice."""
        return f"{SUBJECT_COLUMNS[self.purpose]}:{self.row_id}"


def _cohort_description(cohort: Cohort) -> str:
    return _("Course fee: %(code)s %(title)s, from %(day)s", code=cohort.course.code,
             title=cohort.course.title_en, day=cohort.starts_on.isoformat())


def _enrolment_subject(enrolment: Enrolment) -> Subject:
    cohort, learner = enrolment.cohort, enrolment.learner
    return Subject(OrderPurpose.COHORT_FEE, enrolment.id, _cohort_description(cohort),
                   learner.full_name, learner.email, cohort.price_minor, cohort.currency)


def _membership_subject(membership: Membership) -> Subject:
    plan = membership.plan
    return Subject(OrderPurpose.MEMBERSHIP, membership.id,
                   _("Coworking: %(plan)s from %(day)s", plan=plan.name,
                     day=membership.starts_on.isoformat()),
                   membership.member_name, membership.member_email, plan.price_minor,
                   plan.currency)


def _registration_subject(registration: EventRegistration, event: Event) -> Subject:
    return Subject(OrderPurpose.EVENT_TICKET, registration.id,
                   _("Ticket: %(title)s on %(day)s", title=event.title,
                     day=event.starts_at.date().isoformat()),
                   registration.full_name, registration.email, event.price_minor, event.currency)


def payable_subjects() -> list[Subject]:
    """Enrolments in paid cohorts, memberships of priced plans and tickets of priced events of
    the bound campus that have neither an open nor a paid order (three queries)."""
    enrolments = db.session.scalars(
        select(Enrolment).join(Enrolment.cohort).join(Enrolment.learner)
        .options(joinedload(Enrolment.cohort).joinedload(Cohort.course),
                 joinedload(Enrolment.learner))
        .where(Cohort.funding == Funding.PAID, Cohort.price_minor > 0,
               Cohort.status != CohortStatus.CANCELLED,
               Enrolment.status != EnrolmentStatus.DROPPED,
               ~exists(select(Order.id).where(Order.enrolment_id == Enrolment.id,
                                              Order.status.in_(BLOCKING))))
        .order_by(Learner.full_name, Enrolment.id).limit(CANDIDATES_PER_KIND)).unique()
    memberships = db.session.scalars(
        select(Membership).join(Membership.plan).options(joinedload(Membership.plan))
        .where(MembershipPlan.price_minor > 0,
               Membership.status != MembershipStatus.CANCELLED,
               ~exists(select(Order.id).where(Order.membership_id == Membership.id,
                                              Order.status.in_(BLOCKING))))
        .order_by(Membership.member_name, Membership.id).limit(CANDIDATES_PER_KIND)).unique()
    registrations = db.session.execute(
        select(EventRegistration, Event).join(Event, Event.id == EventRegistration.event_id)
        .where(Event.price_minor > 0, Event.status != EventStatus.CANCELLED,
               EventRegistration.status == RegistrationStatus.REGISTERED,
               ~exists(select(Order.id).where(Order.registration_id == EventRegistration.id,
                                              Order.status.in_(BLOCKING))))
        .order_by(Event.starts_at, EventRegistration.full_name, EventRegistration.id)
        .limit(CANDIDATES_PER_KIND))
    return ([_enrolment_subject(e) for e in enrolments]
            + [_membership_subject(m) for m in memberships]
            + [_registration_subject(r, e) for r, e in registrations])


def _not_payable(message: str) -> Conflict:
    return Conflict(message, code="not_payable")


def _enrolment_to_pay(row_id: int) -> Subject:
    field = "enrolment_id"
    enrolment = db.session.get(Enrolment, (bound_campus_id(), row_id), with_for_update=True)
    if enrolment is None:
        raise NotFound(_("No such enrolment."), {field: [_("No such enrolment.")]})
    cohort = enrolment.cohort
    if cohort.funding is not Funding.PAID or cohort.price_minor <= 0:
        raise Conflict(_("This cohort is free for its learners: there is nothing to pay."),
                       {field: [_("A free or sponsored cohort.")]}, code="free_subject")
    if enrolment.status is EnrolmentStatus.DROPPED or cohort.status is CohortStatus.CANCELLED:
        raise _not_payable(_("This enrolment was dropped or its cohort cancelled."))
    return _enrolment_subject(enrolment)


def _membership_to_pay(row_id: int) -> Subject:
    field = "membership_id"
    membership = db.session.get(Membership, (bound_campus_id(), row_id), with_for_update=True)
    if membership is None:
        raise NotFound(_("No such membership."), {field: [_("No such membership.")]})
    if membership.plan.price_minor <= 0:
        raise Conflict(_("This membership's plan is free: there is nothing to pay."),
                       {field: [_("A free plan.")]}, code="free_subject")
    if membership.status is MembershipStatus.CANCELLED:
        raise _not_payable(_("This membership was cancelled."))
    return _membership_subject(membership)


def _registration_to_pay(row_id: int) -> Subject:
    field = "registration_id"
    registration = db.session.get(EventRegistration, (bound_campus_id(), row_id),
                                  with_for_update=True)
    if registration is None:
        raise NotFound(_("No such registration."), {field: [_("No such registration.")]})
    event = registration.event
    if event.price_minor <= 0:
        raise Conflict(_("This event is free: there is nothing to pay."),
                       {field: [_("A free event.")]}, code="free_subject")
    if (registration.status is not RegistrationStatus.REGISTERED
            or event.status is EventStatus.CANCELLED):
        raise _not_payable(_("This registration or its event was cancelled."))
    return _registration_subject(registration, event)


def _subject(purpose: OrderPurpose, row_id: int) -> Subject:
    """The subject, its row locked (two desks ordering it at once: the second waits and then
    finds the first one's order); NotFound for another campus's or an unknown id."""
    loaders = {OrderPurpose.COHORT_FEE: _enrolment_to_pay,
               OrderPurpose.MEMBERSHIP: _membership_to_pay,
               OrderPurpose.EVENT_TICKET: _registration_to_pay}
    return loaders[purpose](row_id)


def _refuse_if_ordered(purpose: OrderPurpose, row_id: int) -> None:
    column = getattr(Order, SUBJECT_COLUMNS[purpose])
    existing = db.session.scalars(select(Order).where(column == row_id,
                                                      Order.status.in_(BLOCKING))
                                  .order_by(Order.id)).first()
    if existing is None:
        return
    if existing.status is OrderStatus.PAID:
        raise Conflict(_("This was already paid (order #%(id)d).", id=existing.id),
                       {"order_id": [str(existing.id)]}, code="already_paid")
    raise Conflict(_("Order #%(id)d is already waiting for this payment: use it (its payment "
                     "link, or record the payment) instead of a second one.", id=existing.id),
                   {"order_id": [str(existing.id)]}, code="open_order_exists")


# ---- creating orders ---------------------------------------------------------------------------


def _intent_key(campus: Campus, order: Order, action: str) -> str:
    return f"{campus.slug}:{order.id}:{action}"


def _create_intent(order: Order, campus: Campus, customer_id: str | None = None) -> None:
    intent = gateway().create_payment_intent(
        amount_minor=order.amount_minor, currency=order.currency,
        idempotency_key=_intent_key(campus, order, "pi"), description=order.description,
        metadata={"campus_id": str(campus.id), "order_id": str(order.id),
                  "purpose": order.purpose.value},
        customer_id=customer_id, receipt_email=order.payer_email or None)
    order.payment_intent_id = intent.id
    db.session.flush()


def ensure_payment_intent(order: Order, customer_id: str | None = None) -> Order:
    """Give an open Stripe order its PaymentIntent when Stripe is configured and it has none
    yet (orders made while Stripe was not set up get one when the payer first opens the page).
    The idempotency key `<campus>:<order>:pi` makes a retry return the same PaymentIntent."""
    if (order.provider is PaymentProvider.STRIPE and order.status is OrderStatus.OPEN
            and order.payment_intent_id is None and gateway().configured):
        _create_intent(order, bound_campus(), customer_id)
    return order


def _new_order(purpose: OrderPurpose, row_id: int, *, description: str, payer_name: str,
               payer_email: str, amount_minor: int, currency: str,
               actor_id: int | None, customer_id: str | None = None) -> Order:
    campus = bound_campus()
    provider = entity_for_campus_id(campus.id).payment_provider
    order = Order(purpose=purpose, provider=provider, description=description[:300],
                  payer_name=payer_name[:200], payer_email=payer_email[:254],
                  amount_minor=amount_minor, currency=currency, created_by_id=actor_id,
                  status=OrderStatus.OPEN, **{SUBJECT_COLUMNS[purpose]: row_id})
    db.session.add(order)
    db.session.flush()
    return ensure_payment_intent(order, customer_id)


def create_order(*, enrolment_id: int | None = None, membership_id: int | None = None,
                 registration_id: int | None = None, actor_id: int | None = None) -> Order:
    """An open order for one subject of the bound campus, in its campus's currency, with its
    PaymentIntent when the campus takes cards and Stripe is configured.

    Raises InvalidInput unless exactly one subject is named; NotFound for an unknown or another
    campus's subject; Conflict `free_subject` (nothing to pay), `not_payable` (dropped,
    cancelled), `already_paid`, `open_order_exists` (use that order), `currency_mismatch`;
    a gateway error (502, 409 `payments_not_configured`) when Stripe refuses or fails.
    """
    given = {OrderPurpose.COHORT_FEE: enrolment_id, OrderPurpose.MEMBERSHIP: membership_id,
             OrderPurpose.EVENT_TICKET: registration_id}
    named = [(purpose, row_id) for purpose, row_id in given.items() if row_id is not None]
    if len(named) != 1:
        message = _("Name exactly one enrolment, membership or event registration.")
        raise InvalidInput(message, {"_schema": [message]})
    purpose, row_id = named[0]
    subject = _subject(purpose, row_id)
    _refuse_if_ordered(purpose, row_id)
    campus = bound_campus()
    if subject.currency != campus.currency:
        raise Conflict(_("The price is in %(price)s but the campus takes %(campus)s; correct "
                         "the price first.", price=subject.currency, campus=campus.currency),
                       code="currency_mismatch")
    return _new_order(purpose, row_id, description=subject.description,
                      payer_name=subject.payer_name, payer_email=subject.payer_email,
                      amount_minor=subject.amount_minor, currency=subject.currency,
                      actor_id=actor_id)


def stripe_customer_for(partner: Partner) -> str:
    """The partner's Stripe Customer (with its VAT number), created once per partner."""
    known = db.session.get(StripeCustomer, partner.id)
    if known is not None:
        return known.customer_id
    customer_id = gateway().create_customer(
        name=partner.name, email=partner.billing_email or "", vat_number=partner.vat_number,
        country=partner.country, idempotency_key=f"partner:{partner.id}:customer",
        metadata={"partner_id": str(partner.id), "partner": partner.slug})
    try:
        with db.session.begin_nested():  # two contacts paying at once: one row, same customer
            db.session.add(StripeCustomer(partner_id=partner.id, customer_id=customer_id))
            db.session.flush()
    except IntegrityError:
        pass  # the other request stored it (the idempotency key gave us the same customer)
    return customer_id


def start_invoice_payment(invoice: Invoice, *, actor_id: int | None) -> Order:
    """The open card-payment order of an issued partner invoice (the bound campus is the
    invoice's), made with its PaymentIntent the first time and reused afterwards.

    Raises Conflict `already_paid`, `not_payable` (draft, void, not a partner invoice),
    `card_payments_unavailable` (the issuing campus takes no cards: pay by transfer) and
    PaymentsNotConfigured when Stripe is not set up.
    """
    invoice = db.session.get(Invoice, (invoice.campus_id, invoice.id), with_for_update=True,
                             populate_existing=True)
    if invoice.status is InvoiceStatus.PAID:
        raise Conflict(_("Invoice %(number)s is already paid.", number=invoice.number),
                       code="already_paid")
    if invoice.kind is not InvoiceKind.PARTNER or invoice.status is not InvoiceStatus.ISSUED:
        raise _not_payable(_("Only an issued partner invoice can be paid by card."))
    campus = bound_campus()
    if entity_for_campus_id(campus.id).payment_provider is not PaymentProvider.STRIPE:
        raise Conflict(_("This campus takes no card payments: please pay by bank transfer with "
                         "the structured communication printed on the invoice."),
                       code="card_payments_unavailable")
    if not gateway().configured:
        raise PaymentsNotConfigured(_("Card payments are not set up yet: please pay by bank "
                                      "transfer."))
    existing = open_order_for_invoice(invoice)
    partner = invoice.partner
    customer_id = stripe_customer_for(partner) if partner is not None else None
    if existing is not None:
        return ensure_payment_intent(existing, customer_id)
    return _new_order(OrderPurpose.INVOICE, invoice.id,
                      description=_("Invoice %(number)s", number=invoice.number),
                      payer_name=partner.name if partner else "",
                      payer_email=(partner.billing_email or "") if partner else "",
                      amount_minor=invoice.total_minor, currency=invoice.currency,
                      actor_id=actor_id, customer_id=customer_id)


# ---- paying ------------------------------------------------------------------------------------


def _mark_paid(order: Order, *, actor_id: int | None = None, reference: str = "",
               paid_on: date | None = None) -> None:
    """open (or cancelled, when money arrived anyway) → paid, and the ledger entry."""
    campus = bound_campus()
    paid_on = paid_on or today_at(campus)
    if order.purpose is OrderPurpose.INVOICE:
        from billing.invoices.services import mark_invoice_paid

        invoice = db.session.get(Invoice, (order.campus_id, order.invoice_id))
        invoice = mark_invoice_paid(invoice, paid_on=paid_on, actor_id=actor_id,
                                    reference=reference or order.payment_intent_id or "")
        order.entry_id = invoice.entry_id
    else:
        entry = record_entry(occurred_on=paid_on, stream=STREAMS[order.purpose],
                             amount_minor=order.amount_minor, currency=order.currency,
                             source=EntrySource.PAYMENT, source_key=f"order:{order.id}",
                             memo=order.description, actor_id=actor_id)
        order.entry_id = entry.id
    order.status = OrderStatus.PAID
    order.paid_at = utcnow()
    order.last_error = ""
    db.session.flush()


def apply_payment_intent(order: Order, intent: PaymentIntentView) -> bool:
    """Bring the order up to what Stripe says of its PaymentIntent (the pay page, the return
    page and the webhook all come here). Returns True when this call marked it paid.

    succeeded → paid once, with its ledger entry; a failed attempt → `last_error` while open;
    anything else changes nothing. Raises Conflict `payment_intent_mismatch` when the intent is
    not the order's.
    """
    order = _locked(order)
    if intent.id != order.payment_intent_id:
        if not order.payment_intent_id or intent.metadata.get("replaces") != \
                order.payment_intent_id:
            raise Conflict(_("This payment is not the order's."),
                           code="payment_intent_mismatch")
        # After a declined card the test server pays a replacement intent (see the gateway).
        order.payment_intent_id = intent.id
    if intent.status == "succeeded":
        if order.status is OrderStatus.OPEN:
            _mark_paid(order)
            return True
        if order.status is OrderStatus.CANCELLED:
            # The money arrived anyway (a card form left open): it belongs in the ledger;
            # the manager can refund it from the order's page.
            _mark_paid(order)
            order.last_error = _("Paid by card after the order was cancelled; refund it if the "
                                 "payer should not have paid.")
            db.session.flush()
            return True
        return False
    if intent.last_error and order.status is OrderStatus.OPEN:
        order.last_error = intent.last_error
        db.session.flush()
    return False


def record_payment_failure(order: Order, message: str) -> Order:
    """Keep why the last attempt failed on an open order (nothing is marked paid)."""
    order = _locked(order)
    if order.status is OrderStatus.OPEN:
        order.last_error = message
        db.session.flush()
    return order


def _refuse_unless_open(order: Order) -> None:
    if order.status is not OrderStatus.OPEN:
        raise Conflict(_("This order is %(status)s: there is nothing left to pay.",
                         status=status_label(order.status)), code="invalid_transition")


def _refuse_if_invoice_settled(order: Order) -> None:
    """An invoice paid by transfer (or credited) meanwhile is not charged again by card."""
    if order.purpose is not OrderPurpose.INVOICE:
        return
    invoice = db.session.get(Invoice, (order.campus_id, order.invoice_id))
    if invoice.status is InvoiceStatus.PAID:
        raise Conflict(_("Invoice %(number)s is already paid.", number=invoice.number),
                       code="already_paid")
    if invoice.status is not InvoiceStatus.ISSUED:
        raise _not_payable(_("Only an issued partner invoice can be paid by card."))


def _card_intent(order: Order) -> str:
    if order.provider is not PaymentProvider.STRIPE:
        raise Conflict(_("This campus takes no card payments: the manager records cash or "
                         "transfers."), code="card_payments_unavailable")
    if not gateway().configured:
        raise PaymentsNotConfigured(_("Card payments are not set up: the campus records the "
                                      "payment at the desk."))
    ensure_payment_intent(order)
    return order.payment_intent_id


def pay_with_test_card(order: Order, *, number: str, exp_month: int, exp_year: int,
                       cvc: str) -> Order:
    """Pay an open order with a card typed into our own form: only against a local
    Stripe-compatible server (localstripe), never the real Stripe, which takes card numbers
    only in its own form.

    Raises PaymentDeclined (the reason is kept in `last_error`: the caller commits it),
    Conflict `invalid_transition` for an order not open, `card_payments_unavailable`.
    """
    order = _locked(order)
    _refuse_unless_open(order)
    _refuse_if_invoice_settled(order)
    intent_id = _card_intent(order)
    if not gateway().local_server:
        raise Conflict(_("Cards are typed into Stripe's own form, not this one."),
                       code="test_cards_only_locally")
    # One key per card tried: a double-click replays the same attempt, another card is a new one.
    fingerprint = hashlib.sha256(f"{intent_id}|{number}|{exp_month}|{exp_year}|{cvc}".encode())
    campus = bound_campus()
    try:
        intent = gateway().pay_with_test_card(
            intent_id, number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc,
            idempotency_key=_intent_key(campus, order, f"pay:{fingerprint.hexdigest()[:20]}"))
    except PaymentDeclined as declined:
        record_payment_failure(order, declined.message)
        raise
    apply_payment_intent(order, intent)
    if intent.status in ("requires_payment_method", "requires_confirmation", "requires_action"):
        # e.g. a card asking for authentication, which only Stripe's own form can do
        record_payment_failure(order, intent.last_error or _("The payment did not go through."))
    return order


def sync_with_stripe(order: Order) -> Order:
    """Read the order's PaymentIntent from Stripe and apply it (the return page after Stripe's
    own card form, and any visit to an open order's payment page)."""
    if order.status is OrderStatus.OPEN and order.payment_intent_id and gateway().configured:
        apply_payment_intent(order, gateway().retrieve_payment_intent(order.payment_intent_id))
    return order


def client_secret(order: Order) -> str:
    """The PaymentIntent's client secret for Stripe's card form (read fresh from Stripe)."""
    intent_id = _card_intent(order)
    return gateway().retrieve_payment_intent(intent_id).client_secret


def record_manual_payment(order: Order, *, reference: str, actor_id: int | None,
                          paid_on: date | None = None) -> Order:
    """Cash or a transfer received by the campus: open → paid, with its ledger entry.

    For a campus on the `manual` provider, and for an order that has no PaymentIntent (Stripe
    not set up when it was made); a card order is paid by its link, so it cannot be paid twice.
    Raises InvalidInput without a reference, Conflict `invalid_transition` / `card_order`.
    """
    reference = " ".join((reference or "").split())
    if not reference:
        raise InvalidInput(_("Say how it was paid."),
                           {"reference": [_("The cash receipt or transfer reference.")]})
    order = _locked(order)
    _refuse_unless_open(order)
    if order.payment_intent_id is not None:
        raise Conflict(_("This order is paid by card through its payment link; cancel it first "
                         "to take cash instead."), code="card_order")
    order.payment_reference = reference[:120]
    order.paid_by_id = actor_id
    _mark_paid(order, actor_id=actor_id, reference=order.payment_reference, paid_on=paid_on)
    return order


# ---- refunds and cancellations -----------------------------------------------------------------


def _reverse(order: Order, memo: str, actor_id: int | None) -> None:
    entry = get_entry(order.entry_id)
    reversal = reverse_entry(entry, memo=memo, actor_id=actor_id)
    order.refund_entry_id = reversal.id
    order.status = OrderStatus.REFUNDED
    order.refunded_at = utcnow()
    order.refunded_by_id = actor_id
    db.session.flush()


def refund_order(order: Order, *, actor_id: int | None) -> Order:
    """paid → refunded, for the full amount: the card is refunded through Stripe (idempotency
    key `<campus>:<order>:refund`), cash is paid back at the desk; either way the ledger gets
    the reversal of the payment's entry, in the same transaction as the status.

    Raises Conflict `invalid_transition` unless paid, `refund_by_credit_note` for an invoice
    (a credit note corrects an invoice), and the gateway's errors.
    """
    order = _locked(order)
    if order.purpose is OrderPurpose.INVOICE:
        raise Conflict(_("An invoice's payment is corrected with a credit note on the invoice's "
                         "page, not refunded here."), code="refund_by_credit_note")
    if order.status is not OrderStatus.PAID:
        raise Conflict(_("Only a paid order can be refunded; this one is %(status)s.",
                         status=status_label(order.status)), code="invalid_transition")
    if paid_by_card(order):
        refund = gateway().refund(payment_intent_id=order.payment_intent_id,
                                  idempotency_key=_intent_key(bound_campus(), order, "refund"))
        order.refund_id = refund.id
        memo = _("Card refund of order #%(id)d", id=order.id)
    else:
        memo = _("Order #%(id)d paid back in cash or by transfer", id=order.id)
    _reverse(order, memo, actor_id)
    return order


def apply_refund_from_stripe(order: Order, refund_id: str | None) -> bool:
    """A refund made in Stripe (its dashboard, or ours replayed): the order becomes refunded.

    Out of order (the refund seen before the success), the payment is recorded first, so the
    ledger holds the payment and its reversal and nets to zero. Returns True when it changed.
    """
    order = _locked(order)
    if order.status is OrderStatus.REFUNDED:
        return False
    if order.status is not OrderStatus.PAID:
        _mark_paid(order)
    order.refund_id = order.refund_id or refund_id
    _reverse(order, _("Card refund of order #%(id)d (from Stripe)", id=order.id), None)
    return True


def cancel_order(order: Order, *, actor_id: int | None) -> Order:
    """open → cancelled (nothing was paid). Raises Conflict `invalid_transition` otherwise."""
    order = _locked(order)
    if order.status is not OrderStatus.OPEN:
        raise Conflict(_("Only an open order can be cancelled; this one is %(status)s.",
                         status=status_label(order.status)), code="invalid_transition")
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = utcnow()
    order.last_error = ""
    db.session.flush()
    return order


# ---- labels ------------------------------------------------------------------------------------


def status_label(status: OrderStatus) -> str:
    return {OrderStatus.OPEN: _("open"), OrderStatus.PAID: _("paid"),
            OrderStatus.REFUNDED: _("refunded"), OrderStatus.CANCELLED: _("cancelled")}[status]


def purpose_label(purpose: OrderPurpose) -> str:
    return {OrderPurpose.COHORT_FEE: _("Course fee"), OrderPurpose.MEMBERSHIP: _("Coworking"),
            OrderPurpose.EVENT_TICKET: _("Event ticket"),
            OrderPurpose.INVOICE: _("Partner invoice")}[purpose]


def open_totals() -> dict[str, tuple[int, int]]:
    """Currency → (number, amount) of the bound campus's open orders (the dashboard panel)."""
    rows = db.session.execute(
        select(Order.currency, func.count(), func.coalesce(func.sum(Order.amount_minor), 0))
        .where(Order.status == OrderStatus.OPEN).group_by(Order.currency))
    return {currency: (int(count), int(amount)) for currency, count, amount in rows}
