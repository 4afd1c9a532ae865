"""Extensions, created unbound; the app factory binds them."""

from __future__ import annotations

import logging
import weakref
from functools import cached_property

from flask import Flask, current_app, has_app_context, request
from flask_babel import Babel, Domain
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.database import Model

log = logging.getLogger(__name__)

LIMITER_STATE = "campusflow.limiter"
# A throttle must not hold a sign-in up for long: a Redis that does not answer within this
# (one retry) sends the node to its in-memory counters until Redis answers again.
REDIS_TIMEOUT_SECONDS = 1.0


def storage_options(uri: str) -> dict:
    """Options of the throttle storage at `uri`: short time-outs for Redis, none for memory."""
    if not uri.lower().startswith("redis"):
        return {}
    return {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "retry": Retry(NoBackoff(), 1)}


class _LimiterState:
    """What Flask-Limiter keeps on its Limiter object, kept here for one app."""

    def __init__(self) -> None:
        self.enabled = True
        self._storage = None
        self._limiter = None
        self._storage_dead = False
        self._fallback_storage = None
        self._fallback_limiter = None


def _per_app(name: str) -> property:
    def read(limiter: AppLimiter):
        return getattr(limiter._state(), name)

    def write(limiter: AppLimiter, value) -> None:
        setattr(limiter._state(), name, value)

    return property(read, write)


class AppLimiter(Limiter):
    """Flask-Limiter's Limiter, with its storage (and in-memory fallback) kept per app.

    Views are decorated with this module's one `limiter`, and Flask-Limiter keeps a single
    storage on it: binding a second app (a second node in a test, another configuration) would
    move the first app's counters into the second app's storage. Here every app keeps its own,
    so two apps in one process count exactly as two nodes do: alone with `memory://`, together
    with the same Redis. Outside an app context it speaks for the app bound last, as
    Flask-Limiter does.
    """

    enabled = _per_app("enabled")
    _storage = _per_app("_storage")
    _limiter = _per_app("_limiter")
    _storage_dead = _per_app("_storage_dead")
    _fallback_storage = _per_app("_fallback_storage")
    _fallback_limiter = _per_app("_fallback_limiter")

    def __init__(self, *args, **kwargs) -> None:
        self._binding: _LimiterState | None = None
        self._last_bound = _LimiterState()
        self._bound: weakref.WeakSet[_LimiterState] = weakref.WeakSet()
        super().__init__(*args, **kwargs)

    def _state(self) -> _LimiterState:
        if self._binding is not None:
            return self._binding
        if has_app_context():
            state = current_app.extensions.get(LIMITER_STATE)
            if state is not None:
                return state
        return self._last_bound

    def init_app(self, app: Flask) -> None:
        state = app.extensions.setdefault(LIMITER_STATE, _LimiterState())
        # This app's options (RATELIMIT_STORAGE_OPTIONS adds to them), not an earlier app's.
        self._storage_options = storage_options(app.config.get("RATELIMIT_STORAGE_URI") or "")
        self._binding = state
        try:
            super().init_app(app)
        finally:
            self._binding = None
        self._bound.add(state)
        self._last_bound = state

    def reset(self) -> None:
        """Clear the counters: the current app's, or every app's outside an app context.

        Outside an app context (tests), a storage that cannot be reached is skipped with a
        warning; inside one, its error is raised.
        """
        in_app = has_app_context() and LIMITER_STATE in current_app.extensions
        for state in [self._state()] if in_app else list(self._bound):
            for storage in (state._storage, state._fallback_storage):
                if storage is None:
                    continue
                try:
                    storage.reset()
                except NotImplementedError:
                    log.warning("Rate limit storage %s cannot be reset", type(storage).__name__)
                except Exception:
                    if in_app:
                        raise
                    log.warning("Rate limit storage %s unreachable: not reset",
                                type(storage).__name__)


def client_address() -> str:
    """The key of every per-address limit: the client's address (as forwarded by a trusted
    proxy, see TRUSTED_PROXIES). No address (a Unix socket without a trusted proxy) is one
    address, not a way around the limit: Flask-Limiter skips a limit whose key is empty."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Model)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# If the shared storage (Redis) does not answer, each node counts in its own memory (and logs a
# warning) until it answers again: a sign-in page never fails because of its throttle.
limiter = AppLimiter(key_func=client_address, strategy="fixed-window",
                     in_memory_fallback_enabled=True, swallow_errors=True)


TRANSLATIONS_CACHE_KEY = "campusflow.translations"


class AppDomain(Domain):
    """The message domain, with its loaded catalogues cached per app.

    Flask-Babel keeps one cache per process, keyed by locale alone: two apps reading different
    translation directories (the test suite's apps, a worker that builds a second app) would
    serve each other's catalogues."""

    def get_translations_cache(self, ctx) -> dict:
        return current_app.extensions.setdefault(TRANSLATIONS_CACHE_KEY, {})


class AppBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return AppDomain(domain=self.domain)


babel = AppBabel()
