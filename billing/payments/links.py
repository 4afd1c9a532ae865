"""Signed payment links: `/pay/<token>` lets a payer without an account pay one order.

The token carries the campus id and the order id, signed with the app's SECRET_KEY (salt
`order-payment`) and valid for 30 days; it opens that order on that campus's site only, so a
token of another campus, a forged or an expired one is a 404 like any unknown page.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "order-payment"
MAX_AGE_SECONDS = 30 * 24 * 3600


def _serializer(secret_key: str | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key or current_app.config["SECRET_KEY"], salt=SALT)


def payment_token(campus_id: int, order_id: int, *, secret_key: str | None = None) -> str:
    """The token of the payment link of order `order_id` at campus `campus_id`."""
    return _serializer(secret_key).dumps([campus_id, order_id])


def read_payment_token(token: str, campus_id: int) -> int | None:
    """The order id a valid, unexpired token names for `campus_id`; None for anything else."""
    try:
        payload = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None
    if (not isinstance(payload, list) or len(payload) != 2
            or not all(isinstance(part, int) and not isinstance(part, bool) for part in payload)):
        return None
    token_campus, order_id = payload
    return order_id if token_campus == campus_id else None
