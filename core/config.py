"""Settings, read from the environment in one place.

Every setting has a documented environment variable (see README). Secrets have no default
outside development and tests: a production boot without them fails loudly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "test", "production")
DEFAULT_FEATURES = ("tenants", "billing")


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _count(env: Mapping[str, str], name: str) -> int:
    raw = (env.get(name) or "0").strip()
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0, 1, 2…), not {raw!r}")
    return int(raw)


RATELIMIT_STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix")


def _ratelimit_storage_uri(env: Mapping[str, str]) -> str:
    """`RATELIMIT_STORAGE_URI`, checked: memory:// or a Redis URL (the client is installed)."""
    uri = (env.get("RATELIMIT_STORAGE_URI") or "memory://").strip()
    if "://" not in uri or urlsplit(uri).scheme.lower() not in RATELIMIT_STORAGE_SCHEMES:
        raise ConfigError("RATELIMIT_STORAGE_URI must be memory:// or a Redis URL "
                          "(redis://127.0.0.1:6379/0, rediss://…, redis+unix:///path/to/socket)")
    return uri


def _mail_settings(env: Mapping[str, str], environment: str, instance_path: str,
                   domain: str) -> dict[str, Any]:
    """E-mail (core/mail.py): SMTP when MAIL_SERVER is set; otherwise .eml files in MAIL_OUTBOX
    (default instance/outbox in development), otherwise only a log line."""
    server = (env.get("MAIL_SERVER") or "").strip() or None
    username = (env.get("MAIL_USERNAME") or "").strip() or None
    use_tls = _flag(env.get("MAIL_USE_TLS"), username is not None)
    raw_port = (env.get("MAIL_PORT") or "").strip()
    if raw_port and not (raw_port.isdigit() and 0 < int(raw_port) < 65536):
        raise ConfigError(f"MAIL_PORT must be a port number (25, 587…), not {raw_port!r}")
    if server and username and not use_tls and environment == "production":
        raise ConfigError("MAIL_USERNAME without MAIL_USE_TLS would send the password in clear")
    outbox = (env.get("MAIL_OUTBOX") or "").strip() or None
    if outbox is None and environment == "development":
        outbox = str(Path(instance_path).resolve() / "outbox")
    host = domain.split(":")[0] or "localhost"
    return {
        "MAIL_SERVER": server,
        "MAIL_PORT": int(raw_port) if raw_port else (587 if use_tls else 25),
        "MAIL_USE_TLS": use_tls,  # STARTTLS
        "MAIL_USERNAME": username,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": (env.get("MAIL_FROM") or "").strip() or f"Campusflow <no-reply@{host}>",
        "MAIL_OUTBOX": outbox,
    }


def load_config(
    env: Mapping[str, str] | None = None, instance_path: str = "instance"
) -> dict[str, Any]:
    """Build the Flask config from environment variables.

    Raises ConfigError when a required secret is missing outside development and tests.
    """
    env = os.environ if env is None else env
    environment = env.get("CAMPUSFLOW_ENV", "production")
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"CAMPUSFLOW_ENV must be one of {', '.join(ENVIRONMENTS)}")
    relaxed = environment != "production"

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if not relaxed:
            raise ConfigError("SECRET_KEY must be set in production")
        secret_key = "dev-only-secret-key-not-for-production"  # noqa: S105

    database_url = env.get("DATABASE_URL")
    if not database_url:
        if not relaxed:
            raise ConfigError("DATABASE_URL must be set in production")
        database_url = "sqlite:///" + str(Path(instance_path).resolve() / "campusflow.db")

    domain = env.get("CAMPUSFLOW_DOMAIN", "localhost:5000").strip().lower()
    stripe_api_base = (env.get("STRIPE_API_BASE") or "").strip().rstrip("/") or None
    if stripe_api_base is not None:
        if not stripe_api_base.startswith(("http://", "https://")):
            raise ConfigError("STRIPE_API_BASE must be an http(s) URL, e.g. http://127.0.0.1:8420")
        if not relaxed:
            # A local Stripe-compatible server accepts test card numbers typed into our own
            # form; production takes cards only through Stripe's own form.
            raise ConfigError("STRIPE_API_BASE is for development and tests only")
    secure_cookies = _flag(env.get("SESSION_COOKIE_SECURE"), environment == "production")

    return {
        "CAMPUSFLOW_ENV": environment,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Migrations run as the table owner; the app's role owns nothing (row-level security).
        "MIGRATION_DATABASE_URI": env.get("DATABASE_MIGRATION_URL") or None,
        "CAMPUSFLOW_DOMAIN": domain,
        "CAMPUSFLOW_FEATURES": tuple(
            f for f in env.get("CAMPUSFLOW_FEATURES", ",".join(DEFAULT_FEATURES)).split(",") if f
        ),
        "DEMO_PASSWORD": env.get("DEMO_PASSWORD", "campusflow-demo"),
        # Host-only cookies: a Molenbeek session is never sent to Antwerp.
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PREFERRED_URL_SCHEME": "https" if secure_cookies else "http",
        "WTF_CSRF_ENABLED": _flag(env.get("WTF_CSRF_ENABLED"), True),
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_ENABLED": _flag(env.get("RATELIMIT_ENABLED"), True),
        # memory:// counts per process; the same redis:// URL on every node shares the counts.
        "RATELIMIT_STORAGE_URI": _ratelimit_storage_uri(env),
        "SIGNIN_RATE_LIMIT": env.get("SIGNIN_RATE_LIMIT", "5 per minute"),
        "APPLICATION_RATE_LIMIT": env.get("APPLICATION_RATE_LIMIT", "10 per hour"),
        # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For and
        # X-Forwarded-Proto are believed only then: without a proxy anyone could write them.
        "TRUSTED_PROXIES": _count(env, "TRUSTED_PROXIES"),
        # Strict-Transport-Security on HTTPS responses, production only (core/security.py);
        # 0 leaves it out. TRUSTED_HOSTS is derived from CAMPUSFLOW_DOMAIN there too.
        "HSTS_MAX_AGE": _count(env, "HSTS_MAX_AGE") if env.get("HSTS_MAX_AGE") else 31_536_000,
        "MAX_CONTENT_LENGTH": _count(env, "MAX_CONTENT_LENGTH") or 2 * 2**20,  # bytes; over: 413
        "API_TOKEN_TTL_HOURS": int(env.get("API_TOKEN_TTL_HOURS", "720")),
        # Card payments (billing/gateway.py). No key: payments are not configured (campuses on
        # the `stripe` provider cannot take cards; `manual` campuses work as usual).
        "STRIPE_API_KEY": env.get("STRIPE_API_KEY") or None,  # sk_live_… / sk_test_…
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY") or None,  # pk_… (Stripe.js)
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET") or None,  # whsec_… (webhook)
        # A local Stripe-compatible server (localstripe, e.g. http://127.0.0.1:8420) instead of
        # api.stripe.com; development and tests only.
        "STRIPE_API_BASE": stripe_api_base,
        # Retries of a failed network call (same idempotency key each time).
        "STRIPE_MAX_NETWORK_RETRIES": int(env.get("STRIPE_MAX_NETWORK_RETRIES", "2")),
        # Rows of HQ reports each worker keeps until the ledger changes (0: none).
        "REPORT_CACHE_ROWS": _count(env, "REPORT_CACHE_ROWS") if env.get("REPORT_CACHE_ROWS")
        else 20_000,
        "BABEL_DEFAULT_LOCALE": "en",
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        **_mail_settings(env, environment, instance_path, domain),
    }
