"""Two app nodes behind one reverse proxy: sign-in sessions and sign-in throttling hold across both.

Two apps built by `create_app` with the same database and SECRET_KEY are two nodes, as two
gunicorn instances behind nginx are. Their throttle counters live where
`RATELIMIT_STORAGE_URI` says: a real `redis-server` on 127.0.0.1 started by the suite (shared),
or `memory://` (each node alone: the control that shows these tests can fail). Behind the proxy
every request comes from 127.0.0.1; `TRUSTED_PROXIES` says whether X-Forwarded-For is believed.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core.config import ConfigError, load_config
from core.extensions import db
from tests.conftest import DOMAIN, Site, _make_app
from tests.support.data import PASSWORD, manager

SHARED_SECRET = "two-nodes-shared-secret-key"
LIMIT = 3
WRONG = "not-the-password"
MOLENBEEK = f"molenbeek.{DOMAIN}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_nodes(app: Flask, db_session) -> Iterator:
    """`make_nodes(storage_uri, **config)` → two apps on the test's database (SQLite, then
    PostgreSQL) with the same SECRET_KEY and throttle storage, signing-in limited to LIMIT."""
    made: list[Flask] = []

    def make(storage_uri: str, **config) -> tuple[Flask, Flask]:
        settings = {"SECRET_KEY": SHARED_SECRET, "RATELIMIT_STORAGE_URI": storage_uri,
                    "SIGNIN_RATE_LIMIT": f"{LIMIT} per minute", **config}
        pair = tuple(_make_app(app.config["SQLALCHEMY_DATABASE_URI"],
                               app.config["MIGRATION_DATABASE_URI"], **settings)
                     for _ in range(2))
        made.extend(pair)
        return pair

    yield make
    for node in made:
        with node.app_context():
            db.engine.dispose()


@pytest.fixture
def redis_nodes(make_nodes, redis_server) -> Iterator:
    """`redis_nodes(**config)` → two nodes sharing the suite's Redis, emptied first."""
    redis_server.flush()
    yield lambda **config: make_nodes(redis_server.url, **config)
    redis_server.flush()


def on(node: Flask, host: str = MOLENBEEK) -> Site:
    return Site(node.test_client(), host)


def attempt(site: Site, email: str, password: str = WRONG, forwarded_for: str | None = None
            ) -> int:
    """One sign-in on `site`; its status (200: refused, 302: signed in, 429: throttled)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = site.post("/login", data={"email": email, "password": password}, headers=headers)
    return response.status_code


# ---------------------------------------------------------------------------------------------
# Throttling across nodes


def test_failed_sign_ins_on_both_nodes_count_together_with_redis(redis_nodes, redis_server,
                                                                  base):
    node_a, node_b = redis_nodes()
    a, b = on(node_a), on(node_b)
    email = manager("molenbeek")
    assert [attempt(a, email), attempt(b, email), attempt(a, email)] == [200] * LIMIT
    with redis_server.client() as client:
        assert client.keys("LIMITS:*signin*"), "the counters are not in Redis"
    assert attempt(b, email) == 429  # B saw one failure: the other two were A's
    assert attempt(a, email) == 429
    assert attempt(b, email, PASSWORD) == 429  # even the right password waits for the window


def test_with_memory_storage_each_node_counts_only_its_own_failures(make_nodes, base):
    node_a, node_b = make_nodes("memory://")
    a, b = on(node_a), on(node_b)
    email = manager("molenbeek")
    assert [attempt(a, email), attempt(b, email), attempt(a, email)] == [200] * LIMIT
    assert attempt(b, email) == 200  # B counted one failure, not three
    assert attempt(a, email) == 200  # A's own third
    assert attempt(a, email) == 429  # each node still throttles on its own count


def test_unreachable_redis_falls_back_to_memory_and_sign_in_keeps_answering(make_nodes, base,
                                                                            caplog):
    node, _other = make_nodes(f"redis://127.0.0.1:{_free_port()}/0")  # nothing listens there
    site = on(node)
    email = manager("molenbeek")
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        statuses = [attempt(site, email) for _ in range(LIMIT)]
    assert statuses == [200] * LIMIT
    assert "falling back to in-memory storage" in caplog.text
    assert attempt(site, email) == 429  # still throttled, by this node's memory
    another_client = on(node, f"antwerp.{DOMAIN}").post(  # another address, another account
        "/login", data={"email": manager("antwerp"), "password": PASSWORD},
        environ_overrides={"REMOTE_ADDR": "127.0.0.2"})
    assert another_client.status_code == 302


def test_redis_that_never_answers_holds_a_sign_in_up_only_briefly(make_nodes, base):
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        node, _other = make_nodes(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        status = attempt(on(node), manager("molenbeek"))
        elapsed = time.monotonic() - started
    assert status == 200
    assert elapsed < 8, f"sign-in waited {elapsed:.1f} s for Redis"


# ---------------------------------------------------------------------------------------------
# Sessions across nodes


def test_session_cookie_from_node_a_is_accepted_on_node_b(make_nodes, base):
    node_a, node_b = make_nodes("memory://")
    a, b = on(node_a), on(node_b)
    assert attempt(a, manager("molenbeek"), PASSWORD) == 302
    cookie = a.client.get_cookie("session", domain="molenbeek.localhost")
    assert cookie is not None
    b.client.set_cookie("session", cookie.value, domain="molenbeek.localhost")
    assert b.get("/learners").status_code == 200


def test_node_with_another_secret_key_refuses_that_session_cookie(make_nodes, base):
    node_a, _ = make_nodes("memory://")
    (stranger, _) = make_nodes("memory://", SECRET_KEY="another-secret-key")
    a, other = on(node_a), on(stranger)
    assert attempt(a, manager("molenbeek"), PASSWORD) == 302
    cookie = a.client.get_cookie("session", domain="molenbeek.localhost")
    other.client.set_cookie("session", cookie.value, domain="molenbeek.localhost")
    assert other.get("/learners").status_code == 302  # to the sign-in page


# ---------------------------------------------------------------------------------------------
# Client addresses behind the proxy


def test_behind_a_trusted_proxy_each_forwarded_client_is_throttled_alone(redis_nodes, base):
    node_a, node_b = redis_nodes(TRUSTED_PROXIES=1)
    a, b = on(node_a), on(node_b)
    first, second = "198.51.100.7", "198.51.100.8"
    # Another e-mail each time: only the per-address limit can trip.
    statuses = [attempt(site, f"nobody{n}@campusflow.test", forwarded_for=first)
                for n, site in enumerate([a, b, a])]
    assert statuses == [200] * LIMIT
    assert attempt(b, "nobody-else@campusflow.test", forwarded_for=first) == 429
    # The proxy appends the address it saw: a value the client wrote before it changes nothing.
    assert attempt(a, "nobody-more@campusflow.test",
                   forwarded_for=f"203.0.113.99, {first}") == 429
    assert attempt(b, "someone@campusflow.test", forwarded_for=second) == 200
    assert attempt(a, manager("molenbeek"), PASSWORD, forwarded_for=second) == 302


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(redis_nodes,
                                                                                   base):
    node_a, node_b = redis_nodes()  # TRUSTED_PROXIES=0: the default
    a, b = on(node_a), on(node_b)
    statuses = [attempt(site, f"nobody{n}@campusflow.test", forwarded_for=f"198.51.100.{n}")
                for n, site in enumerate([a, b, a])]
    assert statuses == [200] * LIMIT
    assert attempt(b, "nobody-else@campusflow.test", forwarded_for="198.51.100.200") == 429


def test_requests_without_a_client_address_are_still_throttled_per_address(make_nodes, base):
    node, _ = make_nodes("memory://")  # e.g. gunicorn on a Unix socket, no trusted proxy
    site = on(node)

    def no_address(email: str) -> int:
        return site.post("/login", data={"email": email, "password": WRONG},
                         environ_overrides={"REMOTE_ADDR": ""}).status_code

    assert [no_address(f"nobody{n}@campusflow.test") for n in range(LIMIT)] == [200] * LIMIT
    assert no_address("nobody-else@campusflow.test") == 429


def test_behind_a_proxy_the_site_still_comes_from_the_host_it_passes_on(make_nodes, base):
    node, _ = make_nodes("memory://", TRUSTED_PROXIES=1)
    # nginx's `proxy_set_header Host $host` passes the name without the port.
    molenbeek = on(node, "molenbeek.localhost")
    assert attempt(molenbeek, manager("molenbeek"), PASSWORD, forwarded_for="198.51.100.7") == 302
    assert molenbeek.get("/learners").status_code == 200
    # X-Forwarded-Host is never believed: it cannot move a request to another campus.
    forged = on(node, "molenbeek.localhost").post(
        "/login", data={"email": manager("antwerp"), "password": PASSWORD},
        headers={"X-Forwarded-Host": f"antwerp.{DOMAIN}"})
    assert forged.status_code == 200  # refused: antwerp's manager on molenbeek's site


def test_proxy_fix_wraps_the_app_only_when_trusted_proxies_is_set(make_nodes, base):
    plain, _ = make_nodes("memory://")
    proxied, _ = make_nodes("memory://", TRUSTED_PROXIES=2)
    assert not isinstance(plain.wsgi_app, ProxyFix)
    assert isinstance(proxied.wsgi_app, ProxyFix)
    assert (proxied.wsgi_app.x_for, proxied.wsgi_app.x_proto, proxied.wsgi_app.x_host) == (2, 2, 0)


# ---------------------------------------------------------------------------------------------
# Settings


def test_trusted_proxies_defaults_to_none_and_must_be_a_count():
    assert load_config({"CAMPUSFLOW_ENV": "test"})["TRUSTED_PROXIES"] == 0
    assert load_config({"CAMPUSFLOW_ENV": "test", "TRUSTED_PROXIES": "1"})["TRUSTED_PROXIES"] == 1
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config({"CAMPUSFLOW_ENV": "test", "TRUSTED_PROXIES": "127.0.0.1"})


@pytest.mark.parametrize("uri", ["memory://", "redis://127.0.0.1:6379/0",
                                 "rediss://:secret@cache.internal:6380/1",
                                 "redis+unix:///run/redis/redis-server.sock"])
def test_throttle_storage_accepts_memory_and_redis(uri):
    config = load_config({"CAMPUSFLOW_ENV": "test", "RATELIMIT_STORAGE_URI": uri})
    assert config["RATELIMIT_STORAGE_URI"] == uri


@pytest.mark.parametrize("uri", ["memcached://127.0.0.1:11211", "127.0.0.1:6379", "redis"])
def test_throttle_storage_refuses_anything_else_at_boot(uri):
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load_config({"CAMPUSFLOW_ENV": "test", "RATELIMIT_STORAGE_URI": uri})
