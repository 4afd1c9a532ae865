"""The webhooks localstripe itself signs and POSTs to the app served over HTTP (as the apex
domain): each applied once, and never doubling what the pay page already applied."""

from __future__ import annotations

import pytest

from billing.gateway import PaymentDeclined, gateway
from billing.payments.models import OrderStatus, StripeEvent
from core.extensions import db
from tests.billing.test_payments import COURSE_FEE, bearer, order_of, payment_entries
from tests.billing.test_payments_stripe import GOOD_CARD, card_order, link_path
from tests.support.data import manager


def types(deliveries) -> list[str]:
    return [delivery.json()["type"] for delivery in deliveries]


def outcome(app, delivery) -> str:
    """What the app recorded for a delivered event (answered 200)."""
    assert delivery.status == 200, (delivery.status, delivery.body[:300])
    with app.app_context():
        recorded = db.session.get(StripeEvent, delivery.json()["id"])
        assert recorded is not None and recorded.type == delivery.json()["type"]
        return recorded.outcome


def test_success_webhook_after_the_pay_page_counts_once(stripe_app, stripe_webhooks, base,
                                                        site):
    order = card_order(stripe_app, base, site)
    assert site("molenbeek").post(link_path(order), data=GOOD_CARD).status_code == 302
    deliveries = stripe_webhooks.deliver()
    succeeded = [d for d in deliveries if d.json()["type"] == "payment_intent.succeeded"]
    assert len(succeeded) == 1 and succeeded[0].host == "localhost:5000"
    assert outcome(stripe_app, succeeded[0]) == "already_applied"
    assert payment_entries(stripe_app, base) == [
        ("training", COURSE_FEE, "EUR", f"order:{order['id']}", None)]


def test_payment_confirmed_outside_the_app_is_applied_by_the_webhook_once(
        stripe_app, stripe_webhooks, base, site):
    order = card_order(stripe_app, base, site)
    with stripe_app.app_context():  # as Stripe's own card form does, in the browser
        gateway().pay_with_test_card(order["payment_intent_id"], number="4242424242424242",
                                     exp_month=12, exp_year=2034, cvc="123",
                                     idempotency_key="test:outside")
    assert order_of(stripe_app, base, order["id"]).status is OrderStatus.OPEN  # not known yet
    deliveries = stripe_webhooks.deliver()
    assert "payment_intent.succeeded" in types(deliveries)
    succeeded = next(d for d in deliveries if d.json()["type"] == "payment_intent.succeeded")
    assert outcome(stripe_app, succeeded) == "paid"
    assert order_of(stripe_app, base, order["id"]).status is OrderStatus.PAID
    assert len(payment_entries(stripe_app, base)) == 1
    # Stripe delivering the same event again (a retry) changes nothing.
    replay = site(None).post("/webhooks/stripe", data=succeeded.body, headers={
        "Content-Type": "application/json",
        "Stripe-Signature": succeeded.headers["Stripe-Signature"]})
    assert replay.status_code == 200 and replay.get_json()["outcome"] == "duplicate"
    assert len(payment_entries(stripe_app, base)) == 1


def test_declined_card_webhook_keeps_the_reason_and_pays_nothing(stripe_app, stripe_webhooks,
                                                                  base, site):
    order = card_order(stripe_app, base, site)
    with stripe_app.app_context(), pytest.raises(PaymentDeclined):
        gateway().pay_with_test_card(order["payment_intent_id"], number="4000000000000341",
                                     exp_month=12, exp_year=2034, cvc="123",
                                     idempotency_key="test:declined")
    deliveries = stripe_webhooks.deliver()
    failed = [d for d in deliveries if d.json()["type"] == "payment_intent.payment_failed"]
    assert len(failed) == 1 and outcome(stripe_app, failed[0]) == "failure_recorded"
    stored = order_of(stripe_app, base, order["id"])
    assert stored.status is OrderStatus.OPEN and stored.last_error == "Your card was declined."
    assert payment_entries(stripe_app, base) == []


def test_refund_from_the_order_page_and_its_events_count_once(stripe_app, stripe_webhooks,
                                                               base, site):
    order = card_order(stripe_app, base, site)
    assert site("molenbeek").post(link_path(order), data=GOOD_CARD).status_code == 302
    client = site("molenbeek")
    refunded = client.post(f"/api/v1/orders/{order['id']}/refund",
                           headers=bearer(client, manager("molenbeek")))
    assert refunded.status_code == 200 and refunded.get_json()["status"] == "refunded"
    for delivery in stripe_webhooks.deliver():
        assert delivery.status == 200
    assert order_of(stripe_app, base, order["id"]).status is OrderStatus.REFUNDED
    assert [entry[1] for entry in payment_entries(stripe_app, base)] == [COURSE_FEE, -COURSE_FEE]
