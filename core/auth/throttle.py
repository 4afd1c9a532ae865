"""Sign-in throttling: only failed attempts count, per address and per account.

Counters live in Flask-Limiter's storage (`RATELIMIT_STORAGE_URI`): in memory for one process,
Redis when several app nodes must share them. The address is the client's as the app sees it:
behind a reverse proxy, the one it forwards when `TRUSTED_PROXIES` says to believe it (else
every client behind the proxy is one address).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, request

from core.extensions import client_address, limiter


def _limit() -> str:
    return current_app.config["SIGNIN_RATE_LIMIT"]


def _submitted_email() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        return "email:"  # the view refuses the body (413); reading it here would raise
    data = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email", "") if isinstance(data, dict) or hasattr(data, "get") else ""
    return f"email:{str(email).strip().lower()}"


def _failed(_response: object) -> bool:
    return bool(g.get("signin_failed"))


def record_failure() -> None:
    g.signin_failed = True


def throttled(view: Callable) -> Callable:
    """Apply the sign-in limits to a view that calls `record_failure()` on bad credentials.

    The limits are shared by every view so decorated (the sign-in form and the API token): one
    allowance per address and per account, not one per way in."""
    by_address = limiter.shared_limit(_limit, "signin-address", key_func=client_address,
                                      methods=["POST"], deduct_when=_failed)
    by_account = limiter.shared_limit(_limit, "signin-account", key_func=_submitted_email,
                                      methods=["POST"], deduct_when=_failed)
    return by_address(by_account(view))
