"""Card payments with the real `stripe` library over HTTP against localstripe (127.0.0.1): a
payment, a declined card, a refund, Stripe's own card form and its return page, and a partner
paying an invoice by card. Every success lands in the ledger once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from billing.gateway import gateway
from billing.invoices.models import Invoice, InvoiceStatus
from billing.ledger.models import RevenueEntry, RevenueStream
from billing.payments.models import Order, OrderStatus, StripeCustomer
from core.extensions import db
from core.money import format_money
from tenants.scoping import campus_scope
from tests.billing.test_payments import (
    COURSE_FEE,
    add_paid_enrolment,
    add_priced_registration,
    api_order,
    bearer,
    order_of,
    payment_entries,
    rollup,
    signed_in,
)
from tests.support.data import (
    GOOGLE_INVOICE,
    INVOICES,
    OTHER_PARTNER_CONTACT,
    PARTNER_CONTACT,
    manager,
)

GOOD_CARD = {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}
DECLINED_CARD = {"number": "4000000000000341", "expiry": "12/34", "cvc": "123"}


def money(minor: int, locale: str = "fr_BE") -> str:
    return format_money(minor, "EUR", locale)


def card_order(app, base, site, **subject):
    """An order created through the API (its PaymentIntent made at localstripe)."""
    client = site("molenbeek")
    headers = bearer(client, manager("molenbeek"))
    subject = subject or {"enrolment_id": add_paid_enrolment(app, base)}
    response = api_order(client, headers, **subject)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def link_path(order: dict) -> str:
    return order["payment_url"].split("localhost:5000", 1)[1]


def test_order_gets_a_payment_intent_in_the_campus_currency_with_its_keys(stripe_app, base,
                                                                         site, stripe_server):
    order = card_order(stripe_app, base, site)
    intent = stripe_server.get(f"/v1/payment_intents/{order['payment_intent_id']}")
    assert (intent["amount"], intent["currency"]) == (COURSE_FEE, "eur")
    assert intent["metadata"] == {"campus_id": str(base.campus_ids["molenbeek"]),
                                  "order_id": str(order["id"]), "purpose": "cohort_fee"}
    assert ("POST", "/v1/payment_intents", f"molenbeek:{order['id']}:pi") in \
        stripe_server.requests


def test_card_payment_marks_paid_and_records_one_training_entry(stripe_app, base, site):
    order = card_order(stripe_app, base, site)
    payer = site("molenbeek")
    page = payer.get(link_path(order)).get_data(as_text=True)
    assert 'id="card-form"' in page and money(COURSE_FEE) in page and "4242" in page
    before = rollup(stripe_app, base, RevenueStream.TRAINING)
    response = payer.post(link_path(order), data=GOOD_CARD)
    assert response.status_code == 302
    assert 'data-outcome="paid"' in payer.get(link_path(order)).get_data(as_text=True)
    stored = order_of(stripe_app, base, order["id"])
    assert stored.status is OrderStatus.PAID and stored.last_error == ""
    assert payment_entries(stripe_app, base) == [
        ("training", COURSE_FEE, "EUR", f"order:{order['id']}", None)]
    assert stored.entry_id is not None
    assert rollup(stripe_app, base, RevenueStream.TRAINING) == (before[0] + COURSE_FEE,
                                                                 before[1] + 1)
    # Paying again (a second tab, a double click) charges and records nothing more.
    again = payer.post(link_path(order), data=GOOD_CARD)
    assert again.status_code == 409
    assert len(payment_entries(stripe_app, base)) == 1


def test_declined_card_is_shown_clearly_and_nothing_is_paid(stripe_app, base, site):
    order = card_order(stripe_app, base, site, registration_id=add_priced_registration(
        stripe_app, base))
    payer = site("molenbeek")
    response = payer.post(link_path(order), data=DECLINED_CARD)
    assert response.status_code == 402
    page = response.get_data(as_text=True)
    assert "Your card was declined." in page and 'role="alert"' in page
    assert 'value="4000000000000341"' in page  # the form again, as typed (not the CVC)
    stored = order_of(stripe_app, base, order["id"])
    assert stored.status is OrderStatus.OPEN and stored.last_error == "Your card was declined."
    assert payment_entries(stripe_app, base) == []
    # Another card then goes through, once.
    assert payer.post(link_path(order), data=GOOD_CARD).status_code == 302
    stored = order_of(stripe_app, base, order["id"])
    assert stored.status is OrderStatus.PAID and stored.last_error == ""
    assert payment_entries(stripe_app, base) == [
        ("events", 2500, "EUR", f"order:{order['id']}", None)]


@pytest.mark.parametrize(("card", "field"), [
    ({**GOOD_CARD, "number": "1234"}, "number"),
    ({**GOOD_CARD, "number": "4242424242424241"}, "number"),  # fails the Luhn check
    ({**GOOD_CARD, "expiry": "13/30"}, "expiry"),
    ({**GOOD_CARD, "cvc": "12"}, "cvc"),
    ({"number": "4242424242424242"}, "expiry"),
])
def test_bad_card_details_are_422_with_the_field_marked(stripe_app, base, site, card, field):
    order = card_order(stripe_app, base, site)
    response = site("molenbeek").post(link_path(order), data=card)
    assert response.status_code == 422
    assert f'aria-describedby="{field}-error' in response.get_data(as_text=True)
    assert order_of(stripe_app, base, order["id"]).status is OrderStatus.OPEN
    assert payment_entries(stripe_app, base) == []


def test_refund_goes_back_to_the_card_and_the_ledger_nets_to_zero(stripe_app, base, site,
                                                                   stripe_server):
    order = card_order(stripe_app, base, site)
    assert site("molenbeek").post(link_path(order), data=GOOD_CARD).status_code == 302
    before = rollup(stripe_app, base, RevenueStream.TRAINING)
    molenbeek = signed_in(site, manager("molenbeek"))
    confirm = molenbeek.get(f"/orders/{order['id']}/refund").get_data(as_text=True)
    assert "back to the payer's card" in confirm
    assert molenbeek.post(f"/orders/{order['id']}/refund").status_code == 302
    stored = order_of(stripe_app, base, order["id"])
    assert stored.status is OrderStatus.REFUNDED and stored.refund_id.startswith("re_")
    refund = stripe_server.get(f"/v1/refunds/{stored.refund_id}")
    assert (refund["amount"], refund["status"]) == (COURSE_FEE, "succeeded")
    assert ("POST", "/v1/refunds", f"molenbeek:{order['id']}:refund") in stripe_server.requests
    assert [entry[1] for entry in payment_entries(stripe_app, base)] == [COURSE_FEE,
                                                                         -COURSE_FEE]
    amount, count = rollup(stripe_app, base, RevenueStream.TRAINING)
    assert amount == before[0] - COURSE_FEE and count == before[1] + 1
    page = molenbeek.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert "Refunded to the card" in page and stored.refund_id in page


def test_desk_pay_takes_a_card_at_the_campus(stripe_app, base, site):
    order = card_order(stripe_app, base, site)
    molenbeek = signed_in(site, manager("molenbeek"))
    page = molenbeek.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert "Take the card payment at the desk" in page
    link = re.search(r'id="payment-link" type="text" readonly value="([^"]+)"', page).group(1)
    assert link.startswith("http://molenbeek.localhost:5000/pay/")
    assert 'id="card-form"' in site("molenbeek").get(link).get_data(as_text=True)
    response = molenbeek.post(f"/orders/{order['id']}/pay", data=GOOD_CARD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orders/{order['id']}")
    assert order_of(stripe_app, base, order["id"]).status is OrderStatus.PAID


def test_stripe_card_form_in_production_and_its_return_page_applies_the_payment(
        stripe_app, base, site):
    order = card_order(stripe_app, base, site)
    with stripe_app.app_context():
        pay = gateway()
        pay.local_server = False  # as in production: cards go into Stripe's own form
    payer = site("molenbeek")
    page = payer.get(link_path(order)).get_data(as_text=True)
    assert '<script src="https://js.stripe.com/v3/"></script>' in page
    assert 'data-publishable-key="pk_test_' in page
    assert f'data-client-secret="{order["payment_intent_id"]}_secret_' in page
    assert 'name="number"' not in page  # no card number ever reaches our server
    refused = payer.post(link_path(order), data=GOOD_CARD)
    assert refused.status_code == 409
    # Stripe's form confirms the payment in the browser, then sends it to the return URL.
    pay.local_server = True
    with stripe_app.app_context():
        gateway().pay_with_test_card(order["payment_intent_id"], number="4242424242424242",
                                     exp_month=12, exp_year=2034, cvc="123",
                                     idempotency_key="test:browser")
    pay.local_server = False
    back = payer.get(link_path(order) + f"?payment_intent={order['payment_intent_id']}"
                                        "&redirect_status=succeeded")
    assert back.status_code == 200 and 'data-outcome="paid"' in back.get_data(as_text=True)
    assert payment_entries(stripe_app, base) == [
        ("training", COURSE_FEE, "EUR", f"order:{order['id']}", None)]
    assert payer.get(link_path(order)).status_code == 200
    assert len(payment_entries(stripe_app, base)) == 1


# ---- a partner pays an invoice by card ---------------------------------------------------------


def invoice_state(app, base, number: str, campus: str = "molenbeek"):
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
        orders = db.session.scalars(select(Order).where(Order.invoice_id == invoice.id)).all()
        sponsorship = db.session.scalars(
            select(RevenueEntry).where(RevenueEntry.stream == RevenueStream.SPONSORSHIP)).all()
        return (invoice.status, invoice.entry_id, [(o.status, o.entry_id) for o in orders],
                [(e.id, e.amount_minor, e.source_key) for e in sponsorship])


def test_partner_pays_its_invoice_by_card_once_into_the_issuing_campus_ledger(stripe_app, base,
                                                                             site):
    number = INVOICES["molenbeek"]
    partners = site("partners")
    assert partners.sign_in(PARTNER_CONTACT).status_code == 302
    page = partners.get(f"/invoices/{number}/pay").get_data(as_text=True)
    assert "by card" in page and money(100000, "en") in page
    assert partners.post(f"/invoices/{number}/pay").status_code == 302  # start
    form = partners.get(f"/invoices/{number}/pay").get_data(as_text=True)
    assert 'id="card-form"' in form
    assert partners.post(f"/invoices/{number}/pay").status_code == 302  # resumes, no 2nd order
    paid = partners.post(f"/invoices/{number}/pay", data=GOOD_CARD)
    assert paid.status_code == 302
    status, entry_id, orders, entries = invoice_state(stripe_app, base, number)
    assert status is InvoiceStatus.PAID and entry_id is not None
    assert orders == [(OrderStatus.PAID, entry_id)]
    assert entries == [(entry_id, 100000, f"invoice:{number}")]
    assert 'data-outcome="paid"' in partners.get(f"/invoices/{number}/pay").get_data(
        as_text=True)
    assert partners.post(f"/invoices/{number}/pay", data=GOOD_CARD).status_code == 409
    assert invoice_state(stripe_app, base, number)[3] == entries  # still once
    assert invoice_state(stripe_app, base, INVOICES["antwerp"], "antwerp")[3] == []
    with stripe_app.app_context():
        customers = db.session.scalar(select(func.count()).select_from(StripeCustomer)
                                      .where(StripeCustomer.partner_id == base.partner_id))
    assert customers == 1


def test_partner_cannot_open_or_pay_another_partners_invoice(stripe_app, base, site):
    partners = site("partners")
    assert partners.sign_in(OTHER_PARTNER_CONTACT).status_code == 302
    for number in (INVOICES["molenbeek"], INVOICES["antwerp"], "MOL-2026-9999", "x" * 40):
        assert partners.get(f"/invoices/{number}/pay").status_code == 404, number
        assert partners.post(f"/invoices/{number}/pay", data=GOOD_CARD).status_code == 404
    assert partners.get(f"/invoices/{GOOGLE_INVOICE}/pay").status_code == 200  # its own
    assert invoice_state(stripe_app, base, INVOICES["molenbeek"])[2] == []


def test_invoice_paid_by_transfer_meanwhile_is_not_charged_by_card(stripe_app, base, site,
                                                                   stripe_server):
    from datetime import date

    from billing.invoices.services import mark_invoice_paid
    from billing.payments import services

    number = INVOICES["molenbeek"]
    partners = site("partners")
    assert partners.sign_in(PARTNER_CONTACT).status_code == 302
    assert partners.post(f"/invoices/{number}/pay").status_code == 302  # card order opened
    with stripe_app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        invoice = db.session.scalar(select(Invoice).where(Invoice.number == number))
        order = services.open_order_for_invoice(invoice)
        intent_id = order.payment_intent_id
        mark_invoice_paid(invoice, paid_on=date(2026, 11, 20), reference="transfer")
        db.session.commit()
        with pytest.raises(services.Conflict) as refused:
            services.pay_with_test_card(order, number="4242424242424242", exp_month=12,
                                        exp_year=2034, cvc="123")
        assert refused.value.code == "already_paid"
        db.session.rollback()
    page = partners.get(f"/invoices/{number}/pay").get_data(as_text=True)
    assert 'data-outcome="paid"' in page and 'id="card-form"' not in page
    assert partners.post(f"/invoices/{number}/pay", data=GOOD_CARD).status_code == 409
    intents = [r for r in stripe_server.requests if r[1].endswith("/confirm")]
    assert intent_id and not any(intent_id in path for _m, path, _k in intents)
    assert len(invoice_state(stripe_app, base, number)[3]) == 1
