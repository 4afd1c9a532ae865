"""Abuse: hostile search input, sign-in throttling, oversized and mistyped uploads.

Search and filter parameters: every GET route of the URL map that lives on a site (lists, pages,
exports; a new route is covered without editing this file) gets SQL and HTML payloads in `q` and
in every filter name the API documents, as the person who works on that site (and anonymously on
the public pages). Each answer must be a 200 or a 422, never a 5xx; show no other campus's rows
(nor, on the partner portal, the other partner's) and no password hash; list no more rows than
the same request with a harmless word (an injected `OR 1=1` would widen the result); and an HTML
page shows the payload escaped, never as markup.

Throttling of sign-in (form and API token) and of public applications is also proven in
tests/core/test_sign_in.py, tests/core/test_two_nodes.py and tests/tenants/test_applications.py;
here: the API token endpoint, password spraying over many accounts from one address, one account
attacked from many addresses, and one allowance shared by the form and the API.

Uploads: a body past MAX_CONTENT_LENGTH is a 413 on every route that takes one (URL map), the
HQ exchange-rate CSV upload refuses a picture or a binary with a 422 that says why, and nothing is
written either way.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select

from billing.currencies.models import FxRate
from core.auth.models import ApiToken
from core.extensions import db
from core.sites import SiteKind
from tenants.learners.models import Learner
from tenants.scoping import all_campuses
from tests.core.test_api_fuzz import own_objects
from tests.support.data import (
    GOOGLE_INVOICE,
    HQ,
    MARKERS,
    PARTNER_CONTACT,
    PASSWORD,
    manager,
)

PAYLOADS = (
    "' OR 1=1 --",
    "' OR '1'='1",  # valid SQL once pasted into a LIKE: it would list every row
    "%' UNION SELECT password_hash FROM users --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
)
# What must never appear unescaped in an HTML page.
MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
# A harmless word that matches nothing: the same request with it is the yardstick.
CONTROL = "zqxjvk"
# An argon2 hash, as stored in users.password_hash.
PASSWORD_HASH = "$argon2"
SKIPPED_ENDPOINTS = frozenset({"static", "health.healthz", "health.readyz",
                               "openapi.openapi_document"})


def _other_partner_markers() -> tuple[str, ...]:
    return (GOOGLE_INVOICE, "IE6388047V", "Gordon House")


# Site → (subdomain, kind of site, who asks, text that must never show there).
VISITS = {
    "molenbeek manager": ("molenbeek", SiteKind.CAMPUS, manager("molenbeek"),
                          (MARKERS["antwerp"],)),
    "molenbeek visitor": ("molenbeek", SiteKind.CAMPUS, None, tuple(MARKERS.values())),
    "hq": ("hq", SiteKind.HQ, HQ, ()),
    "partner contact": ("partners", SiteKind.PARTNERS, PARTNER_CONTACT,
                        (*MARKERS.values(), *_other_partner_markers())),
    "apex visitor": (None, SiteKind.PUBLIC, None, tuple(MARKERS.values())),
}


def filter_names(app: Flask) -> dict[str, tuple[str, ...]]:
    """Endpoint → the query parameters its documented schema reads; `*` → every such name."""
    names: dict[str, tuple[str, ...]] = {}
    for endpoint, view in app.view_functions.items():
        doc = getattr(view, "api_doc", None)
        if doc and doc["query"] is not None:
            names[endpoint] = tuple(sorted(
                field.data_key or name for name, field in doc["query"]().fields.items()))
    every = sorted({name for fields in names.values() for name in fields} | {"q"})
    names["*"] = tuple(every)
    return names


def routes_to_visit(app: Flask, kind: SiteKind, signed_in: bool, objects: dict[str, object]
                    ) -> Iterator[tuple[str, str]]:
    """(endpoint, path) of every GET route on `kind` sites, its URL arguments this campus's."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        kinds = getattr(view, "site_kinds", None)
        if kinds is not None and kind not in kinds:
            continue
        if not signed_in and not getattr(view, "is_public", False):
            continue
        if any(argument not in objects for argument in rule.arguments):
            continue  # e.g. a signed payment link: no search on it
        values = {argument: objects[argument] for argument in rule.arguments}
        yield rule.endpoint, adapter.build(rule.endpoint, values, method="GET")


def rows_shown(response, own_markers: tuple[str, ...]) -> int:
    """How many rows a response lists: `total` of a JSON page, else the rows carrying a marker."""
    if response.is_json:
        body = response.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("total"), int):
            return body["total"]
    text = response.get_data().decode("utf-8", "replace")
    return sum(text.count(marker) for marker in own_markers)


def problems(response, control, forbidden: tuple[str, ...], own_markers: tuple[str, ...]
             ) -> Iterator[str]:
    """What is wrong with the answer to a payload, `control` being the answer to CONTROL."""
    if response.status_code not in (200, 422):
        yield f"status {response.status_code}"
        return
    body = response.get_data().decode("utf-8", "replace")  # PDF, XLSX: bytes
    if leaked := [marker for marker in forbidden if marker in body]:
        yield f"shows {leaked}"
    if PASSWORD_HASH in body:
        yield "shows a password hash"
    if response.mimetype == "text/html" and any(markup in body for markup in MARKUP):
        yield "the payload is not escaped"
    if (response.status_code == 200 and control.status_code == 200
            and rows_shown(response, own_markers) > rows_shown(control, own_markers)):
        yield f"lists more rows than {CONTROL!r} does"


def visitor(site, subdomain: str | None, email: str | None):
    client = site(subdomain)
    headers = {}
    if email:
        assert client.sign_in(email).status_code == 302
        headers = {"Authorization": f"Bearer {client.token(email)}"}
    return client, headers


@pytest.mark.parametrize("who", list(VISITS))
def test_search_and_filter_payloads_are_inert_on_every_page_and_list(app, base, site, who):
    subdomain, kind, email, forbidden = VISITS[who]
    client, headers = visitor(site, subdomain, email)
    own_markers = (MARKERS["molenbeek"],) if subdomain == "molenbeek" else tuple(MARKERS.values())
    names = filter_names(app)
    objects = own_objects(app, base, "molenbeek")
    failures: list[str] = []
    visited = 0

    def get(path: str, params: dict[str, str]):
        response = client.get(f"{path}?{urlencode(params)}" if params else path, headers=headers)
        response.get_data()  # a streamed body (a CSV export) runs to its end and is kept
        response.close()  # ends its request context before the next request
        return response

    for endpoint, path in routes_to_visit(app, kind, email is not None, objects):
        if get(path, {}).status_code != 200:
            continue  # a redirect or a page that needs more than a visit: nothing to search
        visited += 1
        documented = names.get(endpoint)
        if documented:  # an API list: each parameter alone, so one 422 hides no other
            parameter_sets = [(name,) for name in documented]
        else:  # a page: the search box alone, then every filter name at once
            parameter_sets = [("q",), tuple(name for name in names["*"] if name != "q")]
        for parameters in parameter_sets:
            control = get(path, dict.fromkeys(parameters, CONTROL))
            for payload in PAYLOADS:
                response = get(path, dict.fromkeys(parameters, payload))
                label = f"{who}: GET {path} {','.join(parameters)}={payload!r}"
                failures.extend(f"{label}: {problem}" for problem in problems(
                    response, control, forbidden, own_markers))
    assert visited >= 3, f"{who}: no page answered"
    assert failures == [], "\n".join(failures)


def test_payloads_reach_the_search_and_come_back_escaped(app, base, site):
    """The walk above proves something: the learners page echoes the search, escaped."""
    client, _headers = visitor(site, "molenbeek", manager("molenbeek"))
    payload = '"><img src=x onerror=alert(1)>'
    body = client.get(f"/learners?{urlencode({'q': payload})}").get_data(as_text=True)
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    assert MARKERS["molenbeek"] not in body  # nothing matches the payload
    assert MARKERS["molenbeek"] in client.get("/learners?q=Zinedine").get_data(as_text=True)


def test_an_injected_or_in_an_api_search_finds_nothing(app, base, site):
    client, headers = visitor(site, "molenbeek", manager("molenbeek"))
    every = client.get("/api/v1/learners", headers=headers).get_json()["total"]
    assert every == len(base.learner_ids["molenbeek"])
    for payload in ("' OR 1=1 --", "' OR '1'='1", "%", "_", "\\"):
        answer = client.get(f"/api/v1/learners?{urlencode({'q': payload})}", headers=headers)
        assert answer.status_code == 200, payload
        assert answer.get_json()["total"] == 0, payload  # LIKE wildcards are searched literally


# --- throttling ----------------------------------------------------------------------------


def tokens(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ApiToken))


def ask_token(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_token_requests_are_throttled_and_issue_nothing(app, base, site):
    molenbeek = site("molenbeek")
    limit = int(app.config["SIGNIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert ask_token(molenbeek, manager("molenbeek"), "wrong-password").status_code == 401
    before = tokens(app)
    refused = ask_token(molenbeek, manager("molenbeek"), PASSWORD)  # even the right password
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert set(refused.get_json()["error"]) == {"code", "message", "fields"}
    assert tokens(app) == before


def test_password_spraying_over_many_accounts_from_one_address_is_throttled(app, base, site):
    molenbeek = site("molenbeek")
    limit = int(app.config["SIGNIN_RATE_LIMIT"].split()[0])
    for i in range(limit):
        attempt = molenbeek.post("/login", data={"email": f"user{i}@campusflow.test",
                                                 "password": "Summer2026!"})
        assert attempt.status_code == 200
    assert ask_token(molenbeek, f"user{limit}@campusflow.test", "Summer2026!").status_code == 429
    # Another address is not held back by this one's failures.
    assert ask_token(molenbeek, manager("molenbeek"), PASSWORD, "198.51.100.7").status_code == 200


def test_one_account_attacked_from_many_addresses_is_throttled(app, base, site):
    molenbeek = site("molenbeek")
    limit = int(app.config["SIGNIN_RATE_LIMIT"].split()[0])
    for i in range(limit):
        assert ask_token(molenbeek, manager("molenbeek"), "wrong-password",
                         f"203.0.113.{i + 1}").status_code == 401
    assert ask_token(molenbeek, manager("molenbeek"), PASSWORD,
                     "203.0.113.200").status_code == 429
    # Other accounts still sign in from those addresses.
    assert ask_token(molenbeek, manager("antwerp"), PASSWORD, "203.0.113.1").status_code in (
        200, 401)  # 401: the Antwerp manager may not act on molenbeek, but is not throttled


def test_sign_in_form_and_api_token_share_one_allowance(app, base, site):
    molenbeek = site("molenbeek")
    limit = int(app.config["SIGNIN_RATE_LIMIT"].split()[0])
    for i in range(limit):
        if i % 2:
            assert ask_token(molenbeek, manager("molenbeek"), "nope").status_code == 401
        else:
            assert molenbeek.sign_in(manager("molenbeek"), "nope").status_code == 200
    assert molenbeek.sign_in(manager("molenbeek")).status_code == 429
    assert ask_token(molenbeek, manager("molenbeek"), PASSWORD).status_code == 429


# --- uploads and request bodies ------------------------------------------------------------


def fingerprint(app: Flask) -> dict[str, int]:
    """Row counts of every table, all campuses."""
    with app.app_context(), all_campuses(db.session):
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                  for table in db.metadata.sorted_tables}
        db.session.rollback()
    return counts


def multipart(content: bytes, name: str, content_type: str) -> tuple[bytes, str]:
    boundary = "campusflow-abuse-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n").encode() + content + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def test_max_content_length_is_set():
    from core.config import load_config

    assert load_config({"CAMPUSFLOW_ENV": "test"})["MAX_CONTENT_LENGTH"] == 2 * 2**20
    assert load_config({"CAMPUSFLOW_ENV": "test", "MAX_CONTENT_LENGTH": "1000"}
                       )["MAX_CONTENT_LENGTH"] == 1000


@pytest.mark.parametrize(("content", "name", "content_type", "reason"), [
    (PNG, "rates.png", "image/png", "UTF-8"),
    (PNG, "rates.csv", "text/csv", "UTF-8"),  # the name does not make it a CSV file
    (bytes(range(256)) * 64, "rates.csv", "application/octet-stream", "UTF-8"),
    (b"PK\x03\x04" + b"\x00" * 2000, "rates.xlsx", "application/vnd.openxmlformats-"
     "officedocument.spreadsheetml.sheet", "Line 1"),  # valid UTF-8, not rates
    (b"A" * 200_000, "rates.csv", "text/csv", "Line 1"),  # one field past the csv module limit
    (b"2026-11-03,MAD,10.87\n" + b"\x00" * 10, "rates.csv", "text/csv", "Line 2"),
])
def test_an_upload_that_is_not_a_csv_of_rates_is_422_and_imports_nothing(
        app, base, site, content, name, content_type, reason):
    hq = site("hq")
    assert hq.sign_in(HQ).status_code == 302
    before = fingerprint(app)
    body, mimetype = multipart(content, name, content_type)
    response = hq.post("/fx/import", data=body, content_type=mimetype)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page and reason in page
    assert fingerprint(app) == before


def test_an_upload_past_the_request_limit_is_413_and_imports_nothing(app, base, site):
    hq = site("hq")
    assert hq.sign_in(HQ).status_code == 302
    before = fingerprint(app)
    limit = app.config["MAX_CONTENT_LENGTH"]
    body, mimetype = multipart(b"2026-11-03,MAD,10.87\n" * (limit // 21 + 1), "rates.csv",
                               "text/csv")
    response = hq.post("/fx/import", data=body, content_type=mimetype)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert fingerprint(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FxRate)) == before["fx_rates"]


def body_routes(app: Flask, kind: SiteKind, objects: dict[str, object]
                ) -> Iterator[tuple[str, str, str, bool]]:
    """(endpoint, method, path, is_api) of every route on `kind` sites that reads a body: a JSON
    endpoint documented with one, or a form page (GET shows it, POST reads it). Action buttons
    (POST only, nothing to read) and sign-in/out are left out."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        kinds = getattr(view, "site_kinds", None)
        if (kinds is not None and kind not in kinds) or rule.endpoint.startswith("auth."):
            continue
        if any(argument not in objects for argument in rule.arguments):
            continue
        doc = getattr(view, "api_doc", None)
        is_api = rule.rule.startswith("/api/")
        if (doc is None or doc["body"] is None) if is_api else "GET" not in rule.methods:
            continue
        values = {argument: objects[argument] for argument in rule.arguments}
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            yield rule.endpoint, method, adapter.build(rule.endpoint, values, method=method), is_api


@pytest.mark.parametrize("who", ["molenbeek manager", "hq", "partner contact"])
def test_a_body_past_the_limit_is_413_on_every_route_that_reads_one(app, base, site, who):
    subdomain, kind, email, _forbidden = VISITS[who]
    client, headers = visitor(site, subdomain, email)
    limit = app.config["MAX_CONTENT_LENGTH"]
    objects = own_objects(app, base, "molenbeek")
    before = fingerprint(app)
    oversized_json = json.dumps({"full_name": "x" * (limit + 1)})
    oversized_form = urlencode({"full_name": "x" * (limit + 1)})
    failures, checked, refused = [], 0, Counter()
    for endpoint, method, path, is_api in body_routes(app, kind, objects):
        if is_api:
            response = client.open(method, path, data=oversized_json, headers=headers,
                                   content_type="application/json")
        else:
            response = client.open(method, path, data=oversized_form,
                                   content_type="application/x-www-form-urlencoded")
        checked += 1
        refused[response.status_code] += 1
        # Another 4xx only when the view refuses before reading (e.g. 409: not refundable).
        if response.status_code != 413 and (is_api or not 400 <= response.status_code < 500):
            failures.append(f"{method} {path} ({endpoint}): {response.status_code}")
        elif is_api and response.get_json()["error"]["code"] != "too_large":
            failures.append(f"{method} {path}: {response.get_json()}")
    assert failures == [], "\n".join(failures)
    assert refused[413] >= max(1, checked - 2), refused
    assert fingerprint(app) == before


def test_an_oversized_sign_in_is_413_and_still_counts_nothing_against_anyone(app, base, site,
                                                                             caplog):
    molenbeek = site("molenbeek")
    fields = {"email": manager("molenbeek"), "password": "x" * app.config["MAX_CONTENT_LENGTH"]}
    form = molenbeek.post("/login", data=urlencode(fields),
                          content_type="application/x-www-form-urlencoded")
    assert form.status_code == 413
    api = molenbeek.post("/api/v1/auth/token", data=json.dumps(fields),
                         content_type="application/json")
    assert api.status_code == 413
    assert api.get_json()["error"]["code"] == "too_large"
    # The throttle did not choke on the body (it used to log an error and skip its check).
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert molenbeek.sign_in(manager("molenbeek")).status_code == 302


def test_a_learner_created_with_a_huge_json_body_is_refused_whole(app, base, site):
    client, headers = visitor(site, "molenbeek", manager("molenbeek"))
    with app.app_context(), all_campuses(db.session):
        before = db.session.scalar(select(func.count()).select_from(Learner))
    response = client.post("/api/v1/learners", headers=headers, json={
        "full_name": "Big Body", "email": "big@example.org",
        "phone": "1" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    assert response.status_code == 413
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}
    assert re.search(r"at most \d+ MB", response.get_json()["error"]["message"])
    with app.app_context(), all_campuses(db.session):
        assert db.session.scalar(select(func.count()).select_from(Learner)) == before
