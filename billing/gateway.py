"""The Stripe gateway: the only module that imports `stripe`.

Everything the product asks of Stripe goes through `gateway()`: PaymentIntents (learner fees,
memberships, event tickets, partner invoices paid by card), refunds, partner Customers and the
verification of webhook signatures. Callers pass a deterministic idempotency key per business
action (`<campus_slug>:<order_id>:pi`, `<campus_slug>:<order_id>:refund`,
`partner:<partner_id>:customer`), so a retried request (ours or the library's own network retries)
never charges, refunds or creates twice. Stripe's errors become the product's errors here, in one
place (`_stripe_errors`), so no caller ever sees a `stripe` exception.

Amounts: ours are integers in minor units with an ISO currency; Stripe's are integers in the
currency's smallest unit with a lowercase currency. For the two-decimal currencies we take cards
in (EUR, MAD, …) they are the same number; anything else is refused rather than converted wrongly.

`STRIPE_API_BASE` points the client at a local Stripe-compatible server (localstripe) in
development and tests. localstripe implements less than Stripe: the differences the product meets
are handled here and marked "localstripe:".
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext as _

from core.errors import AppError, InvalidInput
from core.money import minor_digits

if TYPE_CHECKING:
    import stripe

log = logging.getLogger(__name__)

EXTENSION = "campusflow.stripe_gateway"  # app.extensions key of the app's Gateway
WEBHOOK_TOLERANCE_SECONDS = 300  # a signed webhook older (or newer) than this is refused
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
# Stripe counts these in a unit other than ISO 4217's minor unit (or has no minor unit at all).
_STRIPE_SPECIAL_CURRENCIES = frozenset({
    "BIF", "CLP", "DJF", "GNF", "HUF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "TWD",
    "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
})
# Stripe parameters that are the caller's input: an error about them is a 422 on that field.
_OUR_FIELDS = {
    "amount": "amount_minor",
    "currency": "currency",
    "email": "email",
    "receipt_email": "receipt_email",
    "name": "name",
    "address[country]": "country",
    "tax_id_data[0][value]": "vat_number",
    "tax_id_data[0][type]": "vat_number",
    "number": "number",
    "card[number]": "number",
    "exp_month": "exp_month",
    "card[exp_month]": "exp_month",
    "exp_year": "exp_year",
    "card[exp_year]": "exp_year",
    "cvc": "cvc",
    "card[cvc]": "cvc",
}


# ---------------------------------------------------------------------------------------------
# The product's errors


class PaymentDeclined(AppError):
    """The card was refused; the message is Stripe's, written for the card holder."""

    status, code = 402, "card_declined"


class PaymentServiceError(AppError):
    """Stripe could not be reached or failed, after the client's own retries."""

    status, code = 502, "payment_service_error"


class PaymentsNotConfigured(AppError):
    """No (valid) API key: card payments are not available on this installation."""

    status, code = 409, "payments_not_configured"


class InvalidSignature(AppError):
    """A webhook whose signature is missing, wrong or stale (or no webhook secret is set)."""

    status, code = 400, "invalid_signature"


# ---------------------------------------------------------------------------------------------
# What callers get back (never a `stripe` object)


@dataclass(frozen=True)
class PaymentIntentView:
    id: str
    status: str  # Stripe's: requires_payment_method, requires_confirmation, requires_action,
    #              processing, requires_capture, succeeded, canceled
    client_secret: str | None
    amount_minor: int
    currency: str  # ISO, upper case
    last_error: str | None  # why the last attempt failed (Stripe's message), if it did
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class RefundView:
    id: str
    status: str  # succeeded, pending, requires_action, failed, canceled
    amount_minor: int


# ---------------------------------------------------------------------------------------------
# The app's gateway


def gateway() -> Gateway:
    """The current app's gateway, built once per app from its config."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions.setdefault(EXTENSION, Gateway.from_config(app.config))
    return found


class Gateway:
    """Stripe as the product uses it. Thread-safe: one per app, shared by all requests."""

    def __init__(self, *, api_key: str | None, api_base: str | None = None,
                 webhook_secret: str | None = None, publishable_key: str | None = None,
                 max_network_retries: int = 2,
                 webhook_tolerance: int = WEBHOOK_TOLERANCE_SECONDS) -> None:
        self.configured: bool = bool(api_key)
        self.local_server: bool = bool(api_base)
        self.publishable_key: str | None = publishable_key
        self.api_base: str | None = api_base
        self._webhook_secret = webhook_secret or None
        self._tolerance = webhook_tolerance
        self._client: stripe.StripeClient | None = None
        if api_key:
            # Imported on first use: an installation without card payments never loads the
            # library (about 16 MB per worker).
            import stripe

            self._client = stripe.StripeClient(
                api_key,
                base_addresses={"api": api_base} if api_base else None,
                max_network_retries=max_network_retries,
                http_client=stripe.RequestsClient(
                    timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)),
            )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Gateway:
        return cls(
            api_key=config.get("STRIPE_API_KEY"),
            api_base=config.get("STRIPE_API_BASE"),
            webhook_secret=config.get("STRIPE_WEBHOOK_SECRET"),
            publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
            max_network_retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)),
        )

    # -- PaymentIntents ------------------------------------------------------------------------

    def create_payment_intent(self, *, amount_minor: int, currency: str, idempotency_key: str,
                              description: str, metadata: dict[str, str],
                              customer_id: str | None = None,
                              receipt_email: str | None = None) -> PaymentIntentView:
        """A PaymentIntent for a card payment of `amount_minor` `currency` (not yet confirmed)."""
        client = self._require_client()
        params: dict[str, Any] = {
            "amount": _stripe_amount(amount_minor, currency),
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "metadata": {str(k): str(v) for k, v in metadata.items()},
        }
        if customer_id:
            params["customer"] = customer_id
        if not self.local_server:
            # localstripe: refuses `description` and `receipt_email` ("Unexpected …").
            params["description"] = description[:1000]
            if receipt_email:
                params["receipt_email"] = receipt_email
        with _stripe_errors():
            intent = client.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key})
        return _intent_view(intent)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentView:
        client = self._require_client()
        if not payment_intent_id:  # an empty id would address the list of all intents
            raise InvalidInput(_("No payment to look up."), {"payment_intent_id": [_("Missing.")]})
        with _stripe_errors():
            intent = client.v1.payment_intents.retrieve(payment_intent_id)
        return _intent_view(intent)

    def pay_with_test_card(self, payment_intent_id: str, *, number: str, exp_month: int,
                           exp_year: int, cvc: str, idempotency_key: str) -> PaymentIntentView:
        """Confirm a PaymentIntent with a card typed into our own form: ONLY on a local server.

        In production cards are typed into Stripe's own form and never reach us. A decline raises
        PaymentDeclined (Stripe's message). A PaymentIntent that already succeeded (or is being
        processed) is returned unchanged, never charged twice.

        localstripe keeps a declined charge on its PaymentIntent, which can then never be
        confirmed again (Stripe allows retrying the same intent). After a decline, this creates a
        replacement PaymentIntent with the same amount, currency, customer and metadata (its
        idempotency key derived from `idempotency_key` and the declined intent) and pays that:
        callers store the returned `view.id`.
        """
        client = self._require_client()
        if not self.local_server:
            raise PaymentsNotConfigured(
                _("Card numbers can only be typed here with a local test payment server."))
        card = _test_card(number, exp_month, exp_year, cvc)
        with _stripe_errors():
            intent = client.v1.payment_intents.retrieve(payment_intent_id).to_dict()
            if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
                return _intent_view(intent)  # succeeded, processing, canceled…: nothing to do
            if intent.get("last_payment_error"):
                intent = self._replacement_intent(intent, idempotency_key)
            pi_id = intent["id"]
            method = client.v1.payment_methods.create(
                params={"type": "card", "card": card},
                options={"idempotency_key": f"{idempotency_key}:pm:{pi_id}"})
            # localstripe: `confirm` with a `payment_method` is "not implemented"; attach the
            # method with an update first (Stripe accepts both).
            client.v1.payment_intents.update(
                pi_id, params={"payment_method": method.id},
                options={"idempotency_key": f"{idempotency_key}:attach:{pi_id}:{method.id}"})
            intent = client.v1.payment_intents.confirm(
                pi_id, options={"idempotency_key": f"{idempotency_key}:confirm:{pi_id}"})
        return _intent_view(intent)

    def _replacement_intent(self, declined: dict[str, Any], idempotency_key: str
                            ) -> dict[str, Any]:
        client = self._require_client()
        params: dict[str, Any] = {
            "amount": declined["amount"],
            "currency": declined["currency"],
            "payment_method_types": ["card"],
            "metadata": {**(declined.get("metadata") or {}), "replaces": declined["id"]},
        }
        customer = declined.get("customer")
        if customer:
            params["customer"] = customer if isinstance(customer, str) else customer["id"]
        return client.v1.payment_intents.create(
            params=params,
            options={"idempotency_key": f"{idempotency_key}:after:{declined['id']}"},
        ).to_dict()

    # -- Refunds and customers -----------------------------------------------------------------

    def refund(self, *, payment_intent_id: str, idempotency_key: str,
               amount_minor: int | None = None) -> RefundView:
        """Refund a succeeded PaymentIntent, wholly or `amount_minor` of it."""
        client = self._require_client()
        params: dict[str, Any] = {"payment_intent": payment_intent_id}
        if amount_minor is not None:
            if amount_minor <= 0:
                raise InvalidInput(_("The refund must be more than zero."),
                                   {"amount_minor": [_("Must be more than zero.")]})
            params["amount"] = amount_minor
        with _stripe_errors():
            refund = client.v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key})
        return RefundView(id=refund.id, status=refund.status, amount_minor=refund.amount)

    def create_customer(self, *, name: str, email: str | None, vat_number: str | None,
                        country: str | None, idempotency_key: str,
                        metadata: dict[str, str]) -> str:
        """A Stripe Customer for a partner, with its VAT number; returns its id."""
        client = self._require_client()
        params: dict[str, Any] = {
            "name": name,
            "metadata": {str(k): str(v) for k, v in metadata.items()},
        }
        if email:
            params["email"] = email
        if country:
            params["address"] = {"country": country.upper()}
        if vat_number:
            params["metadata"]["vat_number"] = vat_number
            if not self.local_server:
                # localstripe: refuses EU VAT numbers of 10 characters (IE8256796U is valid).
                params["tax_id_data"] = [{"type": "eu_vat", "value": vat_number}]
        with _stripe_errors():
            customer = client.v1.customers.create(
                params=params, options={"idempotency_key": idempotency_key})
        return customer.id

    # -- Webhooks ------------------------------------------------------------------------------

    def verify_event(self, payload: bytes, signature_header: str | None) -> dict:
        """The event in a webhook body, once its `Stripe-Signature` proves it came from Stripe.

        Verified on the raw body with the webhook secret: a missing, malformed or wrong
        signature, a timestamp outside the tolerance (replay), or no secret configured raise
        InvalidSignature.
        """
        if not self._webhook_secret:
            raise InvalidSignature(_("Webhooks are not configured (no webhook secret)."))
        if not signature_header:
            raise InvalidSignature(_("The webhook has no Stripe-Signature header."))
        import stripe

        try:
            stripe.WebhookSignature.verify_header(
                payload, signature_header, self._webhook_secret, self._tolerance)
        except stripe.SignatureVerificationError as error:
            log.warning("Refused a webhook: %s", error)
            raise InvalidSignature(_("The webhook signature is not valid or has expired.")) \
                from None
        except UnicodeDecodeError:
            raise InvalidSignature(_("The webhook body is not text.")) from None
        if _signed_at(signature_header) > time.time() + self._tolerance:
            raise InvalidSignature(_("The webhook signature is not valid or has expired."))
        try:
            event = json.loads(payload)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise InvalidSignature(_("The webhook body is not a Stripe event."))
        return event

    # -- helpers -------------------------------------------------------------------------------

    def _require_client(self) -> stripe.StripeClient:
        if self._client is None:
            raise PaymentsNotConfigured(
                _("Card payments are not configured on this installation."))
        return self._client


# ---------------------------------------------------------------------------------------------
# Stripe's errors → the product's, in one place


@contextmanager
def _stripe_errors() -> Iterator[None]:
    import stripe

    try:
        yield
    except stripe.CardError as error:
        raise PaymentDeclined(error.user_message or _("Your card was declined.")) from None
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        log.error("Stripe refused our API key: %s", error)
        raise PaymentsNotConfigured(
            _("Card payments are not available: the payment service refused our key.")) from None
    except stripe.InvalidRequestError as error:
        field_name = _OUR_FIELDS.get(error.param or "")
        if field_name is not None:
            message = error.user_message or _("This value is not accepted.")
            raise InvalidInput(message, {field_name: [message]}) from None
        log.error("Stripe refused a request: %s (param %s, code %s)",
                  error.user_message, error.param, error.code)
        raise PaymentServiceError(
            _("The payment service refused the request. Please try again later.")) from None
    except stripe.IdempotencyError as error:
        log.error("Stripe idempotency conflict: %s", error)
        raise PaymentServiceError(
            _("The payment service refused the request. Please try again later.")) from None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError,
            stripe.StripeError) as error:
        log.error("Stripe failed: %s: %s", type(error).__name__, error)
        raise PaymentServiceError(
            _("The payment service is not available. Please try again in a few minutes.")) \
            from None


def _intent_view(intent: Any) -> PaymentIntentView:
    if not isinstance(intent, dict):
        intent = intent.to_dict()
    error = intent.get("last_payment_error")
    return PaymentIntentView(
        id=intent["id"],
        status=intent["status"],
        client_secret=intent.get("client_secret"),
        amount_minor=int(intent["amount"]),
        currency=str(intent["currency"]).upper(),
        last_error=(error.get("message") or error.get("code")) if error else None,
        metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
    )


def _stripe_amount(amount_minor: int, currency: str) -> int:
    """Our minor units → Stripe's smallest unit (the same number for the currencies we take)."""
    code = (currency or "").upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInput(_("Unknown currency."), {"currency": [_("Unknown currency.")]})
    if code in _STRIPE_SPECIAL_CURRENCIES or minor_digits(code) != 2:
        raise InvalidInput(_("Card payments in %(currency)s are not supported.", currency=code),
                           {"currency": [_("Not supported for card payments.")]})
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise InvalidInput(_("The amount must be more than zero."),
                           {"amount_minor": [_("Must be more than zero.")]})
    return amount_minor


def _test_card(number: str, exp_month: int, exp_year: int, cvc: str) -> dict[str, Any]:
    digits = "".join(str(number or "").split())
    fields: dict[str, list[str]] = {}
    if not (digits.isdigit() and 13 <= len(digits) <= 19 and _luhn_ok(digits)):
        fields["number"] = [_("This card number is not valid.")]
    exp_month, exp_year = _whole(exp_month), _whole(exp_year)
    if exp_month is None or not 1 <= exp_month <= 12:
        fields["exp_month"] = [_("Enter a month from 1 to 12.")]
    if exp_year is None or not (0 <= exp_year < 100 or 2000 <= exp_year < 2100):
        fields["exp_year"] = [_("Enter a year such as 2030.")]
    cvc = str(cvc or "").strip()
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        fields["cvc"] = [_("Enter the 3 or 4 digits on the back of the card.")]
    if fields or exp_month is None or exp_year is None:
        raise InvalidInput(_("Some card details are not valid."), fields)
    year = exp_year + 2000 if exp_year < 100 else exp_year
    return {"number": digits, "exp_month": exp_month, "exp_year": year, "cvc": cvc}


def _whole(value: Any) -> int | None:
    """An int from an int or a string of digits (form input); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _signed_at(header: str) -> int:
    for item in header.split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0
