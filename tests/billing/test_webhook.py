"""`POST /webhooks/stripe` with payloads signed by the test itself: a bad, missing or stale
signature changes nothing (400); each event id counts once (a duplicate, even racing, is a 200
that changes nothing); events out of order only move an order forward; unknown types are 200."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from billing.invoices.models import Invoice, InvoiceStatus
from billing.ledger.models import RevenueStream
from billing.payments import webhooks
from billing.payments.models import Order, OrderPurpose, OrderStatus, StripeEvent
from billing.payments.services import start_invoice_payment
from core.extensions import db
from tenants.scoping import campus_scope
from tests.billing.test_payments import (
    COURSE_FEE,
    add_paid_enrolment,
    api_order,
    bearer,
    order_of,
    payment_entries,
    rollup,
    set_order,
)
from tests.support.data import INVOICES, manager
from tests.support.stripe_server import WEBHOOK_SECRET, configured, event_payload, sign_payload


@pytest.fixture
def hook_app(app: Flask, db_session) -> Iterator[Flask]:
    """The app with a webhook secret (and no API key: these tests never call Stripe)."""
    with configured(app, {"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_KEY": None,
                          "STRIPE_API_BASE": None}):
        yield app


def send(site, body: bytes, signature: str | None = None, host: str | None = None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return site(host).post("/webhooks/stripe", data=body, headers=headers)


def deliver(site, event_type: str, obj: dict, event_id: str | None = None):
    body = event_payload(event_type, obj, event_id)
    return send(site, body, sign_payload(body))


def card_order(app, base, site, pi: str = "pi_test_webhook") -> dict:
    """An open card order of Molenbeek whose PaymentIntent is `pi` (no Stripe involved)."""
    client = site("molenbeek")
    response = api_order(client, bearer(client, manager("molenbeek")),
                         enrolment_id=add_paid_enrolment(app, base))
    assert response.status_code == 201
    order = response.get_json()
    set_order(app, base, order["id"], payment_intent_id=pi)
    return order


def intent(base, order: dict, status: str = "succeeded", pi: str = "pi_test_webhook",
           error: str | None = None, campus: str = "molenbeek") -> dict:
    obj = {"id": pi, "object": "payment_intent", "status": status, "amount": COURSE_FEE,
           "currency": "eur", "metadata": {"campus_id": str(base.campus_ids[campus]),
                                           "order_id": str(order["id"]),
                                           "purpose": "cohort_fee"}}
    if error:
        obj["last_payment_error"] = {"code": "card_declined", "message": error}
    return obj


def refunded_charge(pi: str = "pi_test_webhook", *, full: bool = True) -> dict:
    return {"id": "ch_test_webhook", "object": "charge", "payment_intent": pi,
            "amount": COURSE_FEE, "amount_refunded": COURSE_FEE if full else 100,
            "refunded": full, "metadata": {},
            "refunds": {"object": "list", "data": [{"id": "re_test_webhook"}]}}


def events(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.id, e.type, e.outcome) for e in
                db.session.scalars(select(StripeEvent).order_by(StripeEvent.received_at))]


# ---- applied once ------------------------------------------------------------------------------


def test_succeeded_event_pays_the_order_once_and_is_recorded(hook_app, base, site):
    order = card_order(hook_app, base, site)
    before = rollup(hook_app, base, RevenueStream.TRAINING)
    response = deliver(site, "payment_intent.succeeded", intent(base, order), "evt_paid_1")
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "outcome": "paid"}
    stored = order_of(hook_app, base, order["id"])
    assert stored.status is OrderStatus.PAID and stored.paid_at is not None
    assert payment_entries(hook_app, base) == [
        ("training", COURSE_FEE, "EUR", f"order:{order['id']}", None)]
    assert rollup(hook_app, base, RevenueStream.TRAINING) == (before[0] + COURSE_FEE,
                                                              before[1] + 1)
    assert events(hook_app) == [("evt_paid_1", "payment_intent.succeeded", "paid")]
    with hook_app.app_context():
        assert db.session.get(StripeEvent, "evt_paid_1").campus_id == base.campus_ids[
            "molenbeek"]


def test_duplicate_event_changes_nothing_and_answers_200(hook_app, base, site):
    order = card_order(hook_app, base, site)
    body = event_payload("payment_intent.succeeded", intent(base, order), "evt_twice")
    assert send(site, body, sign_payload(body)).status_code == 200
    again = send(site, body, sign_payload(body))
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert len(payment_entries(hook_app, base)) == 1
    assert events(hook_app) == [("evt_twice", "payment_intent.succeeded", "paid")]


def test_another_event_for_the_same_payment_counts_it_once(hook_app, base, site):
    order = card_order(hook_app, base, site)
    assert deliver(site, "payment_intent.succeeded", intent(base, order)).status_code == 200
    second = deliver(site, "payment_intent.succeeded", intent(base, order))
    assert second.status_code == 200 and second.get_json()["outcome"] == "already_applied"
    assert len(payment_entries(hook_app, base)) == 1


def test_racing_duplicate_loses_on_the_event_key_and_changes_nothing(hook_app, base, site,
                                                                     monkeypatch):
    """Two deliveries of one event at once: both pass the "seen before?" read, the second
    insert of the event id fails on the primary key, rolls back and answers 200."""
    order = card_order(hook_app, base, site)
    body = event_payload("payment_intent.succeeded", intent(base, order), "evt_race")
    assert send(site, body, sign_payload(body)).status_code == 200
    monkeypatch.setattr(webhooks, "_already_recorded", lambda _event_id: False)
    # The twin also carries a failure: had it been applied, the order would change.
    racing = event_payload("payment_intent.payment_failed",
                           intent(base, order, "requires_payment_method", error="Declined"),
                           "evt_race")
    response = send(site, racing, sign_payload(racing))
    assert response.status_code == 200 and response.get_json()["outcome"] == "duplicate"
    assert len(payment_entries(hook_app, base)) == 1
    assert events(hook_app) == [("evt_race", "payment_intent.succeeded", "paid")]


# ---- signatures --------------------------------------------------------------------------------


def _signature_cases(body: bytes) -> dict[str, tuple[bytes, str | None]]:
    now = int(time.time())
    return {
        "missing": (body, None),
        "empty": (body, ""),
        "garbage": (body, "not a signature"),
        "wrong secret": (body, sign_payload(body, secret="whsec_someone_else")),
        "stale": (body, sign_payload(body, timestamp=now - 600)),
        "from the future": (body, sign_payload(body, timestamp=now + 600)),
        "tampered body": (body.replace(b'"succeeded"', b'"succeeded" '), sign_payload(body)),
        "no v1": (body, f"t={now},v0=abc"),
    }


def test_bad_or_stale_signature_is_400_and_nothing_changes(hook_app, base, site):
    order = card_order(hook_app, base, site)
    body = event_payload("payment_intent.succeeded", intent(base, order), "evt_forged")
    for name, (payload, signature) in _signature_cases(body).items():
        response = send(site, payload, signature)
        assert response.status_code == 400, name
    assert order_of(hook_app, base, order["id"]).status is OrderStatus.OPEN
    assert payment_entries(hook_app, base) == [] and events(hook_app) == []


def test_signed_body_that_is_not_an_event_is_400(hook_app, base, site):
    for body in (b"[]", b"not json", json.dumps({"type": "x"}).encode()):
        assert send(site, body, sign_payload(body)).status_code == 400
    assert events(hook_app) == []


def test_without_a_webhook_secret_every_webhook_is_refused(app, base, site, db_session):
    with configured(app, {"STRIPE_WEBHOOK_SECRET": None}):
        body = event_payload("payment_intent.succeeded", {"id": "pi_x"})
        assert send(site, body, sign_payload(body)).status_code == 400
        assert events(app) == []


def test_webhook_lives_only_on_the_apex_domain(hook_app, base, site):
    body = event_payload("ping", {})
    for host in ("molenbeek", "hq", "partners"):
        assert send(site, body, sign_payload(body), host=host).status_code == 404, host
    assert events(hook_app) == []


def test_webhook_needs_no_csrf_token_even_with_csrf_on(hook_app, base, site, monkeypatch):
    monkeypatch.setitem(hook_app.config, "WTF_CSRF_ENABLED", True)
    order = card_order(hook_app, base, site)
    assert deliver(site, "payment_intent.succeeded", intent(base, order)).status_code == 200
    assert order_of(hook_app, base, order["id"]).status is OrderStatus.PAID


# ---- out of order: state only moves forward ----------------------------------------------------


def test_refund_seen_before_success_pays_then_refunds_and_nets_to_zero(hook_app, base, site):
    order = card_order(hook_app, base, site)
    before = rollup(hook_app, base, RevenueStream.TRAINING)
    response = deliver(site, "charge.refunded", refunded_charge())
    assert response.status_code == 200 and response.get_json()["outcome"] == "refunded"
    stored = order_of(hook_app, base, order["id"])
    assert stored.status is OrderStatus.REFUNDED and stored.refund_id == "re_test_webhook"
    assert [e[1] for e in payment_entries(hook_app, base)] == [COURSE_FEE, -COURSE_FEE]
    amount, count = rollup(hook_app, base, RevenueStream.TRAINING)
    assert amount == before[0] and count == before[1] + 2
    late = deliver(site, "payment_intent.succeeded", intent(base, order))
    assert late.status_code == 200 and late.get_json()["outcome"] == "already_applied"
    assert order_of(hook_app, base, order["id"]).status is OrderStatus.REFUNDED
    assert len(payment_entries(hook_app, base)) == 2


def test_failure_after_success_changes_nothing(hook_app, base, site):
    order = card_order(hook_app, base, site)
    deliver(site, "payment_intent.succeeded", intent(base, order))
    late = deliver(site, "payment_intent.payment_failed",
                   intent(base, order, "requires_payment_method", error="Your card was "
                                                                        "declined."))
    assert late.status_code == 200
    stored = order_of(hook_app, base, order["id"])
    assert stored.status is OrderStatus.PAID and stored.last_error == ""
    assert len(payment_entries(hook_app, base)) == 1


def test_failure_on_an_open_order_keeps_the_reason_and_pays_nothing(hook_app, base, site):
    order = card_order(hook_app, base, site)
    response = deliver(site, "payment_intent.payment_failed",
                       intent(base, order, "requires_payment_method", error="Insufficient "
                                                                            "funds."))
    assert response.get_json()["outcome"] == "failure_recorded"
    stored = order_of(hook_app, base, order["id"])
    assert stored.status is OrderStatus.OPEN and stored.last_error == "Insufficient funds."
    assert payment_entries(hook_app, base) == []


def test_refund_after_our_own_refund_changes_nothing(hook_app, base, site):
    order = card_order(hook_app, base, site)
    deliver(site, "payment_intent.succeeded", intent(base, order))
    deliver(site, "charge.refunded", refunded_charge())
    again = deliver(site, "charge.refunded", refunded_charge())
    assert again.get_json()["outcome"] == "already_applied"
    assert len(payment_entries(hook_app, base)) == 2


def test_partial_refund_made_in_stripe_is_not_recorded(hook_app, base, site):
    order = card_order(hook_app, base, site)
    deliver(site, "payment_intent.succeeded", intent(base, order))
    response = deliver(site, "charge.refunded", refunded_charge(full=False))
    assert response.get_json()["outcome"] == "partial_refund_ignored"
    assert order_of(hook_app, base, order["id"]).status is OrderStatus.PAID


def test_success_of_a_cancelled_order_still_lands_in_the_ledger(hook_app, base, site):
    order = card_order(hook_app, base, site)
    set_order(hook_app, base, order["id"], status=OrderStatus.CANCELLED)
    assert deliver(site, "payment_intent.succeeded", intent(base, order)).get_json()[
        "outcome"] == "paid"
    stored = order_of(hook_app, base, order["id"])
    assert stored.status is OrderStatus.PAID and "refund it" in stored.last_error
    assert len(payment_entries(hook_app, base)) == 1


# ---- what is ignored ---------------------------------------------------------------------------


def test_unhandled_event_type_is_200_and_recorded_as_ignored(hook_app, base, site):
    response = deliver(site, "customer.created", {"id": "cus_1", "object": "customer"},
                       "evt_customer")
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    assert events(hook_app) == [("evt_customer", "customer.created", "ignored")]


def test_event_for_an_unknown_or_mismatched_order_changes_nothing(hook_app, base, site):
    order = card_order(hook_app, base, site)
    unknown = dict(intent(base, order), metadata={"campus_id": str(base.campus_ids["molenbeek"]),
                                                  "order_id": "999999"})
    assert deliver(site, "payment_intent.succeeded", unknown).get_json()["outcome"] == \
        "unknown_order"
    other_pi = intent(base, order, pi="pi_someone_else")
    assert deliver(site, "payment_intent.succeeded", other_pi).get_json()["outcome"] == \
        "payment_intent_mismatch"
    # The same order id at another campus (metadata naming Antwerp) is another order.
    antwerp = intent(base, order, campus="antwerp")
    outcome = deliver(site, "payment_intent.succeeded", antwerp).get_json()["outcome"]
    assert outcome in ("unknown_order", "payment_intent_mismatch")
    no_metadata = {"id": "pi_nobody", "status": "succeeded", "metadata": {}}
    assert deliver(site, "payment_intent.succeeded", no_metadata).get_json()["outcome"] == \
        "unknown_order"
    assert order_of(hook_app, base, order["id"]).status is OrderStatus.OPEN
    assert payment_entries(hook_app, base) == []
    assert payment_entries(hook_app, base, "antwerp") == []


# ---- partner invoices --------------------------------------------------------------------------


def _invoice_order(app, base) -> tuple[int, str]:
    """An open card order for Molenbeek's Microsoft invoice, with a made-up PaymentIntent."""
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        invoice = db.session.scalar(select(Invoice).where(
            Invoice.number == INVOICES["molenbeek"]))
        order = Order(purpose=OrderPurpose.INVOICE, provider="stripe", invoice_id=invoice.id,
                      description="Invoice", amount_minor=invoice.total_minor,
                      currency=invoice.currency, payment_intent_id="pi_test_invoice")
        db.session.add(order)
        db.session.commit()
        return order.id, invoice.number


def test_invoice_paid_through_the_webhook_lands_once_in_sponsorship(hook_app, base, site):
    order_id, number = _invoice_order(hook_app, base)
    obj = {"id": "pi_test_invoice", "status": "succeeded", "amount": 100000, "currency": "eur",
           "metadata": {"campus_id": str(base.campus_ids["molenbeek"]),
                        "order_id": str(order_id), "purpose": "invoice"}}
    assert deliver(site, "payment_intent.succeeded", obj).get_json()["outcome"] == "paid"
    assert deliver(site, "payment_intent.succeeded", obj).get_json()["outcome"] == \
        "already_applied"
    entries = payment_entries(hook_app, base)
    assert entries == [("sponsorship", 100000, "EUR", f"invoice:{number}", None)]
    with hook_app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
        order = db.session.get(Order, (base.campus_ids["molenbeek"], order_id))
        assert invoice.status is InvoiceStatus.PAID and order.entry_id == invoice.entry_id
    refunded = deliver(site, "charge.refunded", refunded_charge("pi_test_invoice"))
    assert refunded.get_json()["outcome"] == "invoice_refund_needs_credit_note"
    assert len(payment_entries(hook_app, base)) == 1


def test_start_invoice_payment_needs_stripe(hook_app, base):
    from billing.payments.services import PaymentsNotConfigured

    with hook_app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        invoice = db.session.scalar(select(Invoice).where(
            Invoice.number == INVOICES["molenbeek"]))
        with pytest.raises(PaymentsNotConfigured):
            start_invoice_payment(invoice, actor_id=None)
        assert db.session.scalar(select(func.count()).select_from(Order)
                                 .where(Order.invoice_id == invoice.id)) == 0


def test_applying_a_payment_locks_the_order_row_first(hook_app, base, site):
    """The pay page and a webhook applying the same payment at once: the second waits on the
    row lock, then sees the order paid (PostgreSQL; SQLite runs one writer at a time)."""
    from tests.support.queries import count_queries

    order = card_order(hook_app, base, site)
    with hook_app.app_context(), count_queries(db.engine) as statements:
        assert deliver(site, "payment_intent.succeeded", intent(base, order)).status_code == 200
    locks = [s for s in statements if "FROM orders" in s and "FOR UPDATE" in s]
    with hook_app.app_context():
        on_postgresql = db.engine.dialect.name == "postgresql"
    assert bool(locks) is on_postgresql
    ledger_write = next(i for i, s in enumerate(statements) if "INSERT INTO revenue_entries" in s)
    first_lock = next((i for i, s in enumerate(statements) if s in locks), -1)
    assert first_lock < ledger_write
