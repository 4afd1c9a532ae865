"""The Stripe gateway, with the real `stripe` library over HTTP against localstripe on 127.0.0.1.

What localstripe does differently from Stripe (checked here so an upgrade that changes it shows):
it ignores `Idempotency-Key`, declines 4000000000000002 only when attaching it to a customer (the
charge itself succeeds; 4000000000000341 is the card declined at charge), and keeps a declined
charge on its PaymentIntent (the gateway pays a replacement intent instead).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from flask import Flask

from billing.gateway import (
    EXTENSION,
    Gateway,
    InvalidSignature,
    PaymentDeclined,
    PaymentIntentView,
    PaymentServiceError,
    PaymentsNotConfigured,
    gateway,
)
from core.config import ConfigError, load_config
from core.errors import InvalidInput
from tests.support.stripe_server import (
    API_KEY,
    WEBHOOK_SECRET,
    RealStripeBlocked,
    configured,
    event_payload,
    serve_wsgi,
    sign_payload,
)

ROOT = Path(__file__).resolve().parents[2]
CARD = {"exp_month": 12, "exp_year": 2034, "cvc": "123"}
SUCCESS, DECLINED_AT_CHARGE, DECLINED_AT_ATTACH = (
    "4242424242424242", "4000000000000341", "4000000000000002")


@pytest.fixture
def gw(stripe_app: Flask):
    """The stripe_app's gateway, inside an app context (messages are translated)."""
    with stripe_app.app_context():
        yield gateway()


def unique(prefix: str) -> str:
    return f"{prefix}:{time.monotonic_ns()}"


def new_intent(gw: Gateway, amount_minor: int = 12000, currency: str = "EUR",
               **kwargs) -> tuple[PaymentIntentView, str]:
    key = unique("molenbeek:order:pi")
    view = gw.create_payment_intent(amount_minor=amount_minor, currency=currency,
                                    idempotency_key=key, description="Coworking membership",
                                    metadata={"order_id": "17", "campus": "molenbeek"}, **kwargs)
    return view, key


# --- configuration ----------------------------------------------------------------------------


def test_stripe_settings_come_from_the_environment():
    config = load_config({"CAMPUSFLOW_ENV": "development", "STRIPE_API_KEY": "sk_test_x",
                          "STRIPE_PUBLISHABLE_KEY": "pk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
                          "STRIPE_API_BASE": "http://127.0.0.1:8420/"})
    assert (config["STRIPE_API_KEY"], config["STRIPE_PUBLISHABLE_KEY"],
            config["STRIPE_WEBHOOK_SECRET"], config["STRIPE_API_BASE"]) == (
        "sk_test_x", "pk_test_x", "whsec_x", "http://127.0.0.1:8420")
    bare = load_config({"CAMPUSFLOW_ENV": "development"})
    assert [bare[k] for k in ("STRIPE_API_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                              "STRIPE_API_BASE")] == [None, None, None, None]
    assert bare["STRIPE_MAX_NETWORK_RETRIES"] == 2


def test_a_local_stripe_server_is_refused_in_production_and_must_be_a_url():
    production = {"CAMPUSFLOW_ENV": "production", "SECRET_KEY": "x" * 32,
                  "DATABASE_URL": "sqlite://"}
    with pytest.raises(ConfigError, match="STRIPE_API_BASE"):
        load_config({**production, "STRIPE_API_BASE": "http://127.0.0.1:8420"})
    with pytest.raises(ConfigError, match="http"):
        load_config({"CAMPUSFLOW_ENV": "development", "STRIPE_API_BASE": "127.0.0.1:8420"})
    assert load_config(production)["STRIPE_API_BASE"] is None


def test_the_gateway_is_built_once_per_app_from_its_config(stripe_app, stripe_server):
    with stripe_app.app_context():
        first = gateway()
        assert gateway() is first
        assert stripe_app.extensions[EXTENSION] is first
    assert first.configured and first.local_server
    assert first.publishable_key == stripe_app.config["STRIPE_PUBLISHABLE_KEY"]
    assert first.api_base == stripe_server.url


def test_without_an_api_key_card_payments_are_not_configured(app, stripe_server):
    before = len(stripe_server.requests)
    with configured(app, {"STRIPE_API_KEY": None, "STRIPE_API_BASE": None,
                          "STRIPE_WEBHOOK_SECRET": None}), app.app_context():
        gw = gateway()
        assert not gw.configured and not gw.local_server
        with pytest.raises(PaymentsNotConfigured) as raised:
            gw.create_payment_intent(amount_minor=100, currency="EUR", idempotency_key="k",
                                     description="x", metadata={})
        assert (raised.value.status, raised.value.code) == (409, "payments_not_configured")
        with pytest.raises(PaymentsNotConfigured):
            gw.refund(payment_intent_id="pi_x", idempotency_key="k")
        with pytest.raises(InvalidSignature):  # no webhook secret: nothing is ever accepted
            gw.verify_event(b"{}", sign_payload(b"{}"))
    assert len(stripe_server.requests) == before


def test_only_the_gateway_imports_stripe():
    importers = []
    for package in ("core", "tenants", "billing"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(name == "stripe" or name.startswith("stripe.") for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert sorted(set(importers)) == ["billing/gateway.py"]


# --- payments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "amount_minor"), [("EUR", 12000), ("MAD", 150050)])
def test_a_card_payment_succeeds(gw, currency, amount_minor):
    created, key = new_intent(gw, amount_minor, currency)
    assert created.id.startswith("pi_") and created.client_secret
    assert (created.status, created.amount_minor, created.currency) == (
        "requires_payment_method", amount_minor, currency)
    assert created.metadata == {"order_id": "17", "campus": "molenbeek"}

    paid = gw.pay_with_test_card(created.id, number=SUCCESS, idempotency_key=key, **CARD)

    assert (paid.id, paid.status, paid.last_error) == (created.id, "succeeded", None)
    assert paid.succeeded
    fetched = gw.retrieve_payment_intent(created.id)
    assert (fetched.status, fetched.amount_minor, fetched.currency) == (
        "succeeded", amount_minor, currency)


def test_a_declined_card_raises_payment_declined_and_nothing_is_paid(gw):
    created, key = new_intent(gw, 50000, "MAD")

    with pytest.raises(PaymentDeclined) as raised:
        gw.pay_with_test_card(created.id, number=DECLINED_AT_CHARGE, idempotency_key=key, **CARD)

    assert (raised.value.status, raised.value.code) == (402, "card_declined")
    assert raised.value.message == "Your card was declined."
    after = gw.retrieve_payment_intent(created.id)
    assert after.status == "requires_payment_method"
    assert after.last_error == "Your card was declined."


def test_after_a_decline_another_card_pays_a_replacement_intent(gw):
    created, key = new_intent(gw)
    with pytest.raises(PaymentDeclined):
        gw.pay_with_test_card(created.id, number=DECLINED_AT_CHARGE, idempotency_key=key, **CARD)

    paid = gw.pay_with_test_card(created.id, number=SUCCESS, idempotency_key=key, **CARD)

    assert paid.status == "succeeded" and paid.id != created.id
    assert (paid.amount_minor, paid.currency) == (created.amount_minor, created.currency)
    assert paid.metadata == {**created.metadata, "replaces": created.id}
    assert gw.retrieve_payment_intent(created.id).status == "requires_payment_method"


def test_card_details_typed_into_a_form_are_accepted_as_text(gw):
    created, key = new_intent(gw)
    paid = gw.pay_with_test_card(created.id, number="4242 4242 4242 4242", exp_month="07",
                                 exp_year="34", cvc="123", idempotency_key=key)
    assert paid.status == "succeeded"


def test_localstripe_declines_4000000000000002_only_when_attached_to_a_customer(gw):
    # Stripe declines this card at charge; localstripe does not (see the module docstring).
    created, key = new_intent(gw)
    paid = gw.pay_with_test_card(created.id, number=DECLINED_AT_ATTACH, idempotency_key=key,
                                 **CARD)
    assert paid.status == "succeeded"


def test_paying_a_succeeded_intent_again_charges_nothing(gw, stripe_server):
    created, key = new_intent(gw)
    gw.pay_with_test_card(created.id, number=SUCCESS, idempotency_key=key, **CARD)
    before = len(stripe_server.requests)

    again = gw.pay_with_test_card(created.id, number=SUCCESS, idempotency_key=key, **CARD)

    assert (again.id, again.status) == (created.id, "succeeded")
    assert [(m, p) for m, p, _k in stripe_server.requests[before:]] == [
        ("GET", f"/v1/payment_intents/{created.id}")]


def test_bad_card_details_are_refused_before_reaching_stripe(gw, stripe_server):
    created, key = new_intent(gw)
    before = len(stripe_server.requests)

    with pytest.raises(InvalidInput) as raised:
        gw.pay_with_test_card(created.id, number="4242 4242 4242 4241", exp_month=13,
                              exp_year=2034, cvc="12", idempotency_key=key)

    assert set(raised.value.fields) == {"number", "exp_month", "cvc"}
    with pytest.raises(InvalidInput) as raised:
        gw.pay_with_test_card(created.id, number=SUCCESS, exp_month="ab", exp_year="1999",
                              cvc="123", idempotency_key=key)
    assert set(raised.value.fields) == {"exp_month", "exp_year"}
    assert len(stripe_server.requests) == before
    assert gw.retrieve_payment_intent(created.id).status == "requires_payment_method"


def test_test_cards_need_a_local_server(app, stripe_server):
    before = len(stripe_server.requests)
    with (configured(app, {"STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": None}),
          app.app_context(), pytest.raises(PaymentsNotConfigured)):
        gateway().pay_with_test_card("pi_x", number=SUCCESS, idempotency_key="k", **CARD)
    assert len(stripe_server.requests) == before


@pytest.mark.parametrize(("amount_minor", "currency", "field"), [
    (0, "EUR", "amount_minor"), (-5, "EUR", "amount_minor"), (10.5, "EUR", "amount_minor"),
    (1000, "JPY", "currency"), (1000, "HUF", "currency"), (1000, "E1", "currency"),
])
def test_amounts_and_currencies_stripe_would_misread_are_refused(gw, stripe_server,
                                                                 amount_minor, currency, field):
    before = len(stripe_server.requests)
    with pytest.raises(InvalidInput) as raised:
        gw.create_payment_intent(amount_minor=amount_minor, currency=currency,
                                 idempotency_key="k", description="x", metadata={})
    assert list(raised.value.fields) == [field]
    assert len(stripe_server.requests) == before


def test_idempotency_keys_are_sent_but_localstripe_ignores_them(gw, stripe_server):
    key = unique("antwerp:42:pi")
    before = len(stripe_server.requests)
    first = gw.create_payment_intent(amount_minor=900, currency="EUR", idempotency_key=key,
                                     description="x", metadata={})
    second = gw.create_payment_intent(amount_minor=900, currency="EUR", idempotency_key=key,
                                      description="x", metadata={})

    sent = [(m, p, k) for m, p, k in stripe_server.requests[before:]]
    assert sent == [("POST", "/v1/payment_intents", key)] * 2
    # Stripe would answer the second call with the first intent; localstripe makes a new one.
    assert first.id != second.id


# --- refunds and customers --------------------------------------------------------------------


def test_a_succeeded_payment_is_refunded(gw, stripe_server):
    created, key = new_intent(gw, 4500)
    gw.pay_with_test_card(created.id, number=SUCCESS, idempotency_key=key, **CARD)
    refund_key = unique("molenbeek:17:refund")

    refund = gw.refund(payment_intent_id=created.id, idempotency_key=refund_key)

    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount_minor) == ("succeeded", 4500)
    assert stripe_server.requests[-1] == ("POST", "/v1/refunds", refund_key)
    assert stripe_server.get(f"/v1/refunds/{refund.id}")["payment_intent"] == created.id


def test_a_partial_refund_refunds_that_amount(gw):
    created, key = new_intent(gw, 4500)
    gw.pay_with_test_card(created.id, number=SUCCESS, idempotency_key=key, **CARD)
    assert gw.refund(payment_intent_id=created.id, idempotency_key=unique("r"),
                     amount_minor=1500).amount_minor == 1500
    with pytest.raises(InvalidInput):
        gw.refund(payment_intent_id=created.id, idempotency_key=unique("r"), amount_minor=0)


def test_refunding_a_payment_that_never_succeeded_is_a_service_error(gw):
    created, key = new_intent(gw)
    with pytest.raises(PaymentDeclined):
        gw.pay_with_test_card(created.id, number=DECLINED_AT_CHARGE, idempotency_key=key, **CARD)
    with pytest.raises(PaymentServiceError) as raised:
        gw.refund(payment_intent_id=created.id, idempotency_key=unique("r"))
    assert (raised.value.status, raised.value.code) == (502, "payment_service_error")


def test_a_partner_becomes_a_stripe_customer_with_its_vat_number(gw, stripe_server):
    key = unique("partner:1:customer")
    customer_id = gw.create_customer(name="Microsoft Ireland", email="billing@example.com",
                                     vat_number="IE8256796U", country="ie", idempotency_key=key,
                                     metadata={"partner_id": "1"})

    assert customer_id.startswith("cus_")
    assert stripe_server.requests[-1] == ("POST", "/v1/customers", key)
    customer = stripe_server.get(f"/v1/customers/{customer_id}")
    assert (customer["name"], customer["email"], customer["address"]) == (
        "Microsoft Ireland", "billing@example.com", {"country": "IE"})
    assert customer["metadata"] == {"partner_id": "1", "vat_number": "IE8256796U"}


# --- Stripe's errors become the product's -----------------------------------------------------


def stripe_answering(status: int, error: dict):
    """A WSGI app standing in for Stripe that answers every call with one error."""
    body = json.dumps({"error": error}).encode()

    def app(environ, start_response):
        start_response(f"{status} Error", [("Content-Type", "application/json"),
                                           ("Stripe-Should-Retry", "false")])
        return [body]

    return app


@pytest.mark.parametrize(("status", "error", "expected", "fields"), [
    (402, {"type": "card_error", "code": "expired_card", "message": "Your card has expired."},
     PaymentDeclined, set()),
    (400, {"type": "invalid_request_error", "param": "amount",
           "message": "Amount must be at least €0.50 eur."}, InvalidInput, {"amount_minor"}),
    (400, {"type": "invalid_request_error", "param": "tax_id_data[0][value]",
           "message": "Invalid value for eu_vat."}, InvalidInput, {"vat_number"}),
    (404, {"type": "invalid_request_error", "code": "resource_missing", "param": "id",
           "message": "No such payment_intent: 'pi_x'"}, PaymentServiceError, set()),
    (400, {"type": "idempotency_error", "message": "Keys for idempotent requests can only be "
           "used with the same parameters they were first used with."}, PaymentServiceError, set()),
    (401, {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_***"},
     PaymentsNotConfigured, set()),
    (403, {"type": "invalid_request_error", "message": "The provided key does not have access."},
     PaymentsNotConfigured, set()),
    (429, {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"},
     PaymentServiceError, set()),
    (500, {"type": "api_error", "message": "Something went wrong on Stripe's end."},
     PaymentServiceError, set()),
])
def test_stripe_errors_become_the_products_errors(stripe_app, status, error, expected, fields):
    with (serve_wsgi(stripe_answering(status, error)) as fake,
          configured(stripe_app, {"STRIPE_API_BASE": fake.url}), stripe_app.app_context(),
          pytest.raises(expected) as raised):
        gateway().create_payment_intent(amount_minor=100, currency="EUR", idempotency_key="k",
                                        description="x", metadata={})
    assert set(raised.value.fields) == fields
    if expected is PaymentDeclined:
        assert raised.value.message == "Your card has expired."
    assert [r.path for r in fake.requests] == ["/v1/payment_intents"]  # no retries after 4xx/500


def test_an_unreachable_payment_service_is_a_service_error_after_the_retries(stripe_app):
    with serve_wsgi(stripe_answering(500, {})) as fake:
        closed = fake.url  # nothing listens there once the block ends
    with (configured(stripe_app, {"STRIPE_API_BASE": closed, "STRIPE_MAX_NETWORK_RETRIES": 1}),
          stripe_app.app_context(), pytest.raises(PaymentServiceError)):
        gateway().retrieve_payment_intent("pi_x")


def test_a_failing_call_is_retried_with_the_same_idempotency_key(stripe_app):
    with (serve_wsgi(_failing_once()) as fake,
          configured(stripe_app, {"STRIPE_API_BASE": fake.url, "STRIPE_MAX_NETWORK_RETRIES": 2}),
          stripe_app.app_context()):
        view = gateway().create_payment_intent(amount_minor=700, currency="EUR",
                                               idempotency_key="antwerp:9:pi", description="x",
                                               metadata={})
    assert view.status == "requires_payment_method"
    assert [(r.path, r.headers.get("Idempotency-Key")) for r in fake.requests] == [
        ("/v1/payment_intents", "antwerp:9:pi")] * 2


def _failing_once():
    calls = []

    def app(environ, start_response):
        calls.append(1)
        if len(calls) == 1:
            start_response("500 Error", [("Content-Type", "application/json")])
            return [b'{"error": {"type": "api_error", "message": "try again"}}']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"id": "pi_retry", "object": "payment_intent", "amount": 700,
                            "currency": "eur", "status": "requires_payment_method",
                            "client_secret": "pi_retry_secret", "metadata": {}}).encode()]

    return app


# --- webhooks ---------------------------------------------------------------------------------


def test_a_payload_signed_with_the_secret_is_accepted(gw):
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"},
                            event_id="evt_signed")
    event = gw.verify_event(payload, sign_payload(payload, WEBHOOK_SECRET))
    assert (event["id"], event["type"]) == ("evt_signed", "payment_intent.succeeded")
    assert event["data"]["object"]["id"] == "pi_1"


def test_a_header_with_several_signatures_is_accepted_when_one_matches(gw):
    payload = event_payload("charge.refunded", {"id": "ch_1"})
    header = sign_payload(payload, WEBHOOK_SECRET)
    assert gw.verify_event(payload, header.replace("v1=", "v1=00ff,v1=", 1))["type"] == (
        "charge.refunded")


@pytest.mark.parametrize("case", [
    "other secret", "tampered body", "stale", "from the future", "no header", "empty header",
    "garbage header", "no v1 scheme", "not an event",
])
def test_bad_stale_or_missing_signatures_are_refused(gw, case):
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    now = int(time.time())
    header = sign_payload(payload, WEBHOOK_SECRET, now)
    if case == "other secret":
        header = sign_payload(payload, "whsec_someone_else", now)
    elif case == "tampered body":
        payload = payload.replace(b"pi_1", b"pi_2")
    elif case == "stale":
        header = sign_payload(payload, WEBHOOK_SECRET, now - 301)
    elif case == "from the future":
        header = sign_payload(payload, WEBHOOK_SECRET, now + 301)
    elif case == "no header":
        header = None
    elif case == "empty header":
        header = ""
    elif case == "garbage header":
        header = "this is not a signature"
    elif case == "no v1 scheme":
        header = header.replace("v1=", "v0=")
    elif case == "not an event":
        payload = b'["a list"]'
        header = sign_payload(payload, WEBHOOK_SECRET, now)

    with pytest.raises(InvalidSignature) as raised:
        gw.verify_event(payload, header)
    assert (raised.value.status, raised.value.code) == (400, "invalid_signature")


def test_a_signature_inside_the_tolerance_is_accepted(gw):
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    assert gw.verify_event(payload, sign_payload(payload, WEBHOOK_SECRET, int(time.time()) - 290))


def capture(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_localstripe_signs_its_webhooks_and_the_gateway_verifies_them(gw, stripe_app,
                                                                      stripe_server):
    apex = stripe_app.config["CAMPUSFLOW_DOMAIN"]
    with serve_wsgi(capture, host=apex) as live:
        stripe_server.register_webhook("capture", live.url + "/webhooks/stripe",
                                       events=["payment_intent.succeeded",
                                               "payment_intent.payment_failed"])
        try:
            paid, key = new_intent(gw, 2500)
            gw.pay_with_test_card(paid.id, number=SUCCESS, idempotency_key=key, **CARD)
            declined, key = new_intent(gw, 2600)
            with pytest.raises(PaymentDeclined):
                gw.pay_with_test_card(declined.id, number=DECLINED_AT_CHARGE,
                                      idempotency_key=key, **CARD)
            assert stripe_server.wait_for_deliveries() >= 2
        finally:
            stripe_server.remove_webhook("capture")

    received = {}
    for delivery in live.requests:
        assert (delivery.method, delivery.path, delivery.host) == ("POST", "/webhooks/stripe", apex)
        event = gw.verify_event(delivery.body, delivery.headers.get("Stripe-Signature"))
        received[event["data"]["object"]["id"]] = event["type"]
    assert received == {paid.id: "payment_intent.succeeded",
                        declined.id: "payment_intent.payment_failed"}
    tampered = live.requests[0].body.replace(b'"amount"', b'"amount_x"')
    with pytest.raises(InvalidSignature):
        gw.verify_event(tampered, live.requests[0].headers["Stripe-Signature"])


def test_the_app_receives_localstripe_webhooks_on_the_apex_domain_only_when_delivered(
        stripe_webhooks, stripe_app):
    with stripe_app.app_context():
        gw = gateway()
        created, key = new_intent(gw, 3100)
        gw.pay_with_test_card(created.id, number=SUCCESS, idempotency_key=key, **CARD)
    stripe_webhooks.wait_until_waiting(1)  # localstripe sent it: it waits at the server's door
    assert stripe_webhooks.received == []

    delivered = stripe_webhooks.deliver()

    events = [d.json() for d in delivered]
    assert (created.id, "payment_intent.succeeded") in [
        (e["data"]["object"]["id"], e["type"]) for e in events]
    apex = stripe_app.config["CAMPUSFLOW_DOMAIN"]
    for delivery in delivered:
        assert (delivery.method, delivery.host) == ("POST", apex)
        with stripe_app.app_context():
            assert gateway().verify_event(delivery.body, delivery.headers["Stripe-Signature"])
        assert delivery.status != 503  # it reached the app (its answer is the endpoint's)


# --- the guard against the real Stripe API ----------------------------------------------------


def test_the_guard_blocks_any_stripe_com_host(no_real_stripe):
    import socket

    for host in ("api.stripe.com", "files.stripe.com", "API.Stripe.COM."):
        with pytest.raises(RealStripeBlocked):
            socket.getaddrinfo(host, 443)
    with pytest.raises(RealStripeBlocked):
        socket.create_connection(("api.stripe.com", 443), timeout=1)
    assert len(no_real_stripe) == 4
    no_real_stripe.clear()  # proven: let this test pass
    assert socket.getaddrinfo("127.0.0.1", 80)  # other hosts are untouched


def test_a_gateway_without_a_local_server_cannot_reach_stripe_from_the_suite(app,
                                                                             no_real_stripe):
    with (configured(app, {"STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": None,
                           "STRIPE_MAX_NETWORK_RETRIES": 0}),
          app.app_context(), pytest.raises(PaymentServiceError)):
        gateway().retrieve_payment_intent("pi_x")
    assert no_real_stripe == ["api.stripe.com"]
    no_real_stripe.clear()


def test_a_test_reaching_stripe_fails_even_if_it_swallows_the_error(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.support.stripe_server"]\n')
    (tmp_path / "test_reaches_stripe.py").write_text(textwrap.dedent("""
        import socket

        def test_swallows_the_error():
            try:
                socket.getaddrinfo("api.stripe.com", 443)
            except Exception:
                pass
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tried to reach the real Stripe API: api.stripe.com" in result.stdout
