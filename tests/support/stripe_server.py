"""localstripe served on 127.0.0.1 for the suite, the app served over real HTTP for its
webhooks, and a guard against the real Stripe API (a pytest plugin, listed in tests/conftest.py).

Fixtures
- `stripe_server` (session): localstripe's aiohttp app on 127.0.0.1 at a free port, in a thread
  with its own event loop (localstripe's own command listens on every interface). `.url`.
- `stripe_config`: the config overrides pointing an app at it (API key, webhook secret, base).
- `stripe_app`: the test's `app` (SQLite and PostgreSQL) with `stripe_config` applied for the test
  and its gateway rebuilt; restored afterwards.
- `stripe_webhooks`: the `stripe_app` served over HTTP on 127.0.0.1 (presenting the apex host)
  and registered as localstripe's webhook endpoint `/webhooks/stripe`. localstripe signs each
  event and POSTs it a second after the API call that caused it; `stripe_webhooks.deliver()`
  lets the pending ones through and waits until the app has answered them (the app handles a
  webhook only inside `deliver()`, so it never touches the test's database connection while the
  test itself does).
- `no_real_stripe` (autouse): any attempt to resolve or connect to `*.stripe.com` raises
  RealStripeBlocked and fails the test.

Helpers: `serve_wsgi(app, host=...)` (a live HTTP server for any WSGI app), `ApexHost`,
`sign_payload(payload, secret, timestamp)` (a `Stripe-Signature` header computed by the test).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

API_KEY = "sk_test_campusflow_localstripe"
PUBLISHABLE_KEY = "pk_test_campusflow_localstripe"
WEBHOOK_SECRET = "whsec_campusflow_localstripe_test"
WEBHOOK_PATH = "/webhooks/stripe"


# ---------------------------------------------------------------------------------------------
# The guard: the suite never reaches the real Stripe API


class RealStripeBlocked(RuntimeError):
    """A test tried to reach the real Stripe API."""


_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection
_blocked_attempts: list[str] = []


def _is_stripe_host(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.strip().rstrip(".").lower()
    return host == "stripe.com" or host.endswith(".stripe.com")


def _guarded_getaddrinfo(host, *args, **kwargs):
    if _is_stripe_host(host):
        _blocked_attempts.append(str(host))
        raise RealStripeBlocked(f"tests must not reach the real Stripe API ({host})")
    return _real_getaddrinfo(host, *args, **kwargs)


def _guarded_create_connection(address, *args, **kwargs):
    if _is_stripe_host(address[0]):
        _blocked_attempts.append(str(address[0]))
        raise RealStripeBlocked(f"tests must not reach the real Stripe API ({address[0]})")
    return _real_create_connection(address, *args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _block_real_stripe() -> Iterator[None]:
    """For the whole session (every thread): `*.stripe.com` cannot be resolved or connected to."""
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.create_connection = _guarded_create_connection
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo
        socket.create_connection = _real_create_connection


@pytest.fixture(autouse=True)
def no_real_stripe(_block_real_stripe) -> Iterator[list[str]]:
    """Fails the test that tried to reach `*.stripe.com`, even if the code under test swallowed
    the error (the gateway turns it into a PaymentServiceError). The list of attempted hosts is
    yielded: a test proving the guard clears it after checking it."""
    _blocked_attempts.clear()
    yield _blocked_attempts
    if _blocked_attempts:
        hosts = sorted(set(_blocked_attempts))
        _blocked_attempts.clear()
        pytest.fail(f"This test tried to reach the real Stripe API: {', '.join(hosts)}. "
                    "Use the `stripe_app` fixture (localstripe on 127.0.0.1).", pytrace=False)


# ---------------------------------------------------------------------------------------------
# localstripe on 127.0.0.1


@dataclass
class StripeServer:
    """localstripe running in this process (its aiohttp app on our own event loop thread)."""

    url: str
    loop: asyncio.AbstractEventLoop
    # Every API request localstripe received: (method, path, Idempotency-Key header or None).
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def register_webhook(self, webhook_id: str, url: str, secret: str = WEBHOOK_SECRET,
                         events: list[str] | None = None) -> None:
        """Ask localstripe to sign and POST its events to `url` (its `/_config/webhooks/<id>`).

        Deliveries still pending from earlier API calls are finished first, so a webhook never
        receives an event caused before it was registered.
        """
        self.wait_for_deliveries()
        body: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        status, _answer = _http("POST", f"{self.url}/_config/webhooks/{webhook_id}", body)
        assert status == 200, status

    def get(self, path: str) -> dict[str, Any]:
        """An object as localstripe holds it, e.g. `get("/v1/customers/cus_…")`."""
        status, answer = _http("GET", self.url + path,
                               headers={"Authorization": f"Bearer {API_KEY}"})
        assert status == 200, (status, answer)
        return answer

    def remove_webhook(self, webhook_id: str) -> None:
        """localstripe has no endpoint for this: its registry is edited in-process."""
        from localstripe import webhooks

        self.wait_for_deliveries()
        webhooks._webhooks.pop(webhook_id, None)

    def wait_for_deliveries(self, timeout: float = 15) -> int:
        """Wait until every webhook localstripe has scheduled was sent (and answered); returns
        how many were pending."""

        async def pending() -> int:
            current = asyncio.current_task()
            tasks = [task for task in asyncio.all_tasks()
                     if task is not current and not task.done()
                     and getattr(task.get_coro(), "__name__", "") == "_send_webhook"]
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)
            return len(tasks)

        return asyncio.run_coroutine_threadsafe(pending(), self.loop).result(timeout + 5)


def _http(method: str, url: str, body: dict | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """A JSON request to the local server (only http://127.0.0.1 URLs)."""
    assert url.startswith("http://127.0.0.1:"), url
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (loopback, checked above)
        url, data=data, method=method,
        headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[StripeServer]:
    from aiohttp import web

    with warnings.catch_warnings():
        # localstripe registers plain functions as handlers: aiohttp deprecates that.
        warnings.simplefilter("ignore", DeprecationWarning)
        from localstripe import resources
        from localstripe.server import app as localstripe_app

    # localstripe pickles its whole store to /tmp/localstripe.pickle after every write; tests
    # need none of that (and parallel runs would share the file).
    resources.store.dump_to_disk = lambda: None

    requests: list[tuple[str, str, str | None]] = []

    @web.middleware
    async def record(request, handler):
        requests.append((request.method, request.path, request.headers.get("Idempotency-Key")))
        return await handler(request)

    localstripe_app.middlewares.insert(0, record)  # before localstripe's own (auth, errors)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(localstripe_app, access_log=None)
    started = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, listener).start())
        except BaseException as error:  # reported to the fixture below
            failure.append(error)
            started.set()
            return
        started.set()
        loop.run_forever()
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="localstripe", daemon=True)
    thread.start()
    if not started.wait(15) or failure:
        raise RuntimeError(f"localstripe did not start: {failure}")
    server = StripeServer(url=f"http://127.0.0.1:{port}", loop=loop, requests=requests)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        listener.close()


@pytest.fixture
def stripe_config(stripe_server: StripeServer) -> dict[str, Any]:
    """Config overrides pointing an app at the suite's localstripe."""
    return {
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_server.url,
        "STRIPE_MAX_NETWORK_RETRIES": 0,  # localstripe answers or it is a bug: fail fast
    }


@contextmanager
def configured(app: Flask, overrides: dict[str, Any]) -> Iterator[Flask]:
    """`app` with `overrides` in its config (and a fresh gateway) inside the block."""
    from billing.gateway import EXTENSION

    missing = object()
    saved = {key: app.config.get(key, missing) for key in overrides}
    app.config.update(overrides)
    app.extensions.pop(EXTENSION, None)
    try:
        yield app
    finally:
        for key, value in saved.items():
            if value is missing:
                app.config.pop(key, None)
            else:
                app.config[key] = value
        app.extensions.pop(EXTENSION, None)


@pytest.fixture
def stripe_app(app: Flask, db_session, stripe_config: dict[str, Any]) -> Iterator[Flask]:
    """The test's app (SQLite, then PostgreSQL) talking to localstripe for this test.

    Use it instead of `app`; `site(...)`, `base` etc. work as usual (they share the app).
    """
    with configured(app, stripe_config):
        yield app


# ---------------------------------------------------------------------------------------------
# The app over real HTTP (localstripe POSTs webhooks to it)


class ApexHost:
    """WSGI middleware presenting every request as addressed to the apex domain.

    Stands in for DNS and the reverse proxy: in production Stripe calls
    https://<CAMPUSFLOW_DOMAIN>/webhooks/stripe; in tests localstripe can only reach
    http://127.0.0.1:<port>, and the app resolves its site from the Host header.
    """

    def __init__(self, app: Callable, host: str) -> None:
        self.app = app
        self.host = host

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        environ["HTTP_HOST"] = self.host
        name, _sep, port = self.host.partition(":")
        environ["SERVER_NAME"] = name
        environ["SERVER_PORT"] = port or "80"
        return self.app(environ, start_response)


@dataclass
class Delivery:
    method: str
    path: str
    host: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LiveServer:
    """A WSGI app served on 127.0.0.1 by werkzeug in a thread, one request at a time.

    Every request is recorded (after the app answered it) in `requests`. While `gate` is
    cleared, requests wait before reaching the app.
    """

    server: BaseWSGIServer
    requests: list[Delivery] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: int = 0  # requests received, whether or not the gate let them through yet

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


@contextmanager
def serve_wsgi(wsgi_app: Callable, *, host: str | None = None,
               gated: bool = False) -> Iterator[LiveServer]:
    """Serve `wsgi_app` over HTTP on 127.0.0.1 (a free port) for the block.

    `host`: present every request as addressed to it (ApexHost). `gated`: requests wait for
    `live.gate` to be set before reaching the app.
    """
    app = ApexHost(wsgi_app, host) if host else wsgi_app
    live: LiveServer

    def recording(environ: dict, start_response: Callable) -> list[bytes]:
        live.arrived += 1
        if gated and not live.gate.wait(60):
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"the test did not let this request through"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = _Body(body)
        status: list[str] = []

        def capture(status_line: str, headers: list, exc_info: Any = None) -> Callable:
            status.append(status_line)
            return start_response(status_line, headers, exc_info)

        response = app(environ, capture)
        try:
            chunks = list(response)
        finally:
            if hasattr(response, "close"):
                response.close()
        headers = {key[5:].replace("_", "-").title(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        live.requests.append(Delivery(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("HTTP_HOST", ""),
            headers, body, int(status[0].split()[0])))
        return chunks

    server = make_server("127.0.0.1", 0, recording, threaded=False)
    live = LiveServer(server)
    if not gated:
        live.gate.set()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-app", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        live.gate.set()  # release anything still waiting, then stop
        server.shutdown()
        server.server_close()
        thread.join(15)


class _Body:
    """A re-readable request body for the app behind the recorder."""

    def __init__(self, data: bytes) -> None:
        import io

        self._stream = io.BytesIO(data)

    def read(self, *args: Any) -> bytes:
        return self._stream.read(*args)

    def readline(self, *args: Any) -> bytes:
        return self._stream.readline(*args)

    def __iter__(self):
        return iter(self._stream)


@dataclass
class StripeWebhooks:
    """localstripe's webhooks to the live app (see `stripe_webhooks`)."""

    stripe: StripeServer
    live: LiveServer
    endpoint: str

    @property
    def received(self) -> list[Delivery]:
        return [r for r in self.live.requests if r.path == WEBHOOK_PATH]

    def wait_until_waiting(self, count: int = 1, timeout: float = 15) -> None:
        """Wait until `count` webhooks reached the server and wait at its gate (not delivered)."""
        deadline = time.monotonic() + timeout
        while self.live.arrived - len(self.live.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} webhooks arrived in {timeout} s")
            time.sleep(0.02)

    def deliver(self, timeout: float = 15) -> list[Delivery]:
        """Let localstripe's pending webhooks reach the app and wait for its answers; returns
        the deliveries made during this call (event types: `d.json()["type"]`)."""
        before = len(self.live.requests)
        self.live.gate.set()
        try:
            self.stripe.wait_for_deliveries(timeout)
        finally:
            self.live.gate.clear()
        return [r for r in self.live.requests[before:] if r.path == WEBHOOK_PATH]


@pytest.fixture
def stripe_webhooks(stripe_app: Flask, stripe_server: StripeServer, db_session
                    ) -> Iterator[StripeWebhooks]:
    """`stripe_app` served over HTTP as the apex domain, registered as localstripe's webhook."""
    webhook_id = f"campusflow-{time.monotonic_ns()}"
    with serve_wsgi(stripe_app, host=stripe_app.config["CAMPUSFLOW_DOMAIN"], gated=True) as live:
        endpoint = live.url + WEBHOOK_PATH
        stripe_server.register_webhook(webhook_id, endpoint, WEBHOOK_SECRET)
        hooks = StripeWebhooks(stripe_server, live, endpoint)
        try:
            yield hooks
        finally:
            live.gate.set()  # the test's last events reach the app before its data is rolled back
            stripe_server.remove_webhook(webhook_id)


# ---------------------------------------------------------------------------------------------
# Payloads signed by the test itself


def sign_payload(payload: bytes | str, secret: str = WEBHOOK_SECRET,
                 timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send: `t=<ts>,v1=<HMAC-SHA256 of "t.payload">`."""
    if isinstance(payload, str):
        payload = payload.encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], event_id: str | None = None,
                  created: int | None = None) -> bytes:
    """A Stripe event body (`{"id","object":"event","type","created","data":{"object"}}`)."""
    created = int(time.time()) if created is None else created
    return json.dumps({
        "id": event_id or f"evt_test_{time.monotonic_ns()}",
        "object": "event",
        "type": event_type,
        "created": created,
        "livemode": False,
        "api_version": "2017-08-15",
        "data": {"object": obj},
    }).encode()
