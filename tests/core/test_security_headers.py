"""Security headers on every response, no inline code in any template, and the hosts served.

The Content-Security-Policy allows scripts and styles from our own origin only, so a single inline
`<script>`, `on…=` handler or `style=` attribute would be blocked by browsers: the template scan
below keeps that from happening silently.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Response
from werkzeug.sansio.utils import host_is_trusted

from billing.gateway import gateway
from core.app import create_app
from core.security import canonical_host, refuse_untrusted_host, trusted_hosts
from tests.billing.test_payments_stripe import card_order, link_path
from tests.support.data import HQ, INVOICES, PARTNER_CONTACT, PASSWORD, manager

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
OWN_ORIGIN_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "object-src": ["'none'"],
}
UNSAFE_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'strict-dynamic'",
                  "'wasm-unsafe-eval'", "data:", "blob:", "*", "http:", "https:"}


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, (response.status_code, response.mimetype)
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_secured(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    assert policy_of(response) == OWN_ORIGIN_POLICY
    assert "Strict-Transport-Security" not in response.headers  # test config, plain HTTP


# ---- finding inline code ------------------------------------------------------------------------

JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
# Attributes handed to a macro as a dict, e.g. field(..., attrs={"onfocus": "…"}).
MACRO_ATTRS = re.compile(r"""["'](on[a-z]+|style)["']\s*:""", re.I)


class InlineCode(HTMLParser):
    """Collects what a script-src/style-src 'self' policy blocks: inline scripts, event handler
    attributes, `style` attributes and elements, `javascript:` URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"line {self.getpos()[0]}: <{tag}>"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{where} event handler {name}=")
            elif name == "style":
                self.found.append(f"{where} style=")
            elif (name in ("href", "src", "action", "formaction", "xlink:href")
                  and (value or "").strip().lower().startswith("javascript:")):
                self.found.append(f"{where} javascript: URL")
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append(f"{where} inline script")
        if tag == "style":
            self.found.append(f"{where} <style> element")

    handle_startendtag = handle_starttag


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def template_inline_code(source: str) -> list[str]:
    """Inline code in a Jinja template: Jinja tags dropped, expressions replaced by a word."""
    markup = JINJA.sub(lambda m: "x" if m.group(0).startswith("{{") else "", source)
    return inline_code(markup) + [f"macro attribute {m.group(1)!r}"
                                  for m in MACRO_ATTRS.finditer(source)]


def test_no_template_has_inline_script_style_or_event_handler():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 50 and TEMPLATES / "payments" / "pay.html" in templates
    found = {str(path.relative_to(TEMPLATES)): problems for path in templates
             if (problems := template_inline_code(path.read_text(encoding="utf-8")))}
    assert found == {}


@pytest.mark.parametrize("markup", [
    "<script>alert(1)</script>",
    "<SCRIPT type='module'>x()</SCRIPT>",
    '<input value="{{ link }}" onfocus="this.select()">',
    '<button ONCLICK="go()">',
    '<p style="white-space: pre-wrap">{{ text }}</p>',
    '<svg viewBox="0 0 1 1" style="max-width:{{ w }}px"/>',
    "<style>p { color: red }</style>",
    '<a href=" JavaScript:void(0)">x</a>',
    '{{ field("n", "N", {}, {}, attrs={"onchange": "x()"}) }}',
    '<a href="/"{% if x %} onclick="x()"{% endif %}>',
])
def test_the_template_scan_catches_each_kind_of_inline_code(markup):
    assert template_inline_code(markup)


def test_the_template_scan_accepts_scripts_from_files_and_data_attributes():
    markup = ('<form id="card-form" data-client-secret="{{ s }}" data-return-url="{{ u }}">'
              '<input data-select-on-focus value="{{ v }}"{% if r %} required{% endif %}></form>'
              '<script src="https://js.stripe.com/v3/"></script>'
              "<script src=\"{{ url_for('static', filename='js/pay.js') }}\"></script>"
              '<rect fill="#0b5cad" font-size="11"/>')
    assert template_inline_code(markup) == []


# ---- every kind of response -------------------------------------------------------------------


def signed_in(site, host: str | None, email: str):
    client = site(host)
    assert client.sign_in(email).status_code == 302
    return client


def with_token(site, method: str, path: str, **kwargs):
    client = site("molenbeek")
    headers = {"Authorization": f"Bearer {client.token(manager('molenbeek'))}"}
    return client.open(method, path, headers=headers, **kwargs)


# name → (request, status, mimetype)
RESPONSES = {
    "public-home": (lambda site: site(None).get("/"), 200, "text/html"),
    "campus-public-page": (lambda site: site("molenbeek").get("/"), 200, "text/html"),
    "campus-dashboard": (lambda site: signed_in(site, "molenbeek", manager("molenbeek"))
                         .get("/"), 200, "text/html"),
    "campus-form": (lambda site: signed_in(site, "molenbeek", manager("molenbeek"))
                    .get("/learners/new"), 200, "text/html"),
    "hq-home": (lambda site: signed_in(site, "hq", HQ).get("/"), 200, "text/html"),
    "partner-portal": (lambda site: signed_in(site, "partners", PARTNER_CONTACT).get("/"),
                       200, "text/html"),
    "redirect-to-sign-in": (lambda site: site("hq").get("/"), 302, "text/html"),
    "json-api": (lambda site: with_token(site, "GET", "/api/v1/learners"), 200,
                 "application/json"),
    "json-422": (lambda site: with_token(site, "POST", "/api/v1/learners", json={}), 422,
                 "application/json"),
    "json-404": (lambda site: with_token(site, "GET", "/api/v1/nothing-here"), 404,
                 "application/json"),
    "html-404": (lambda site: site("molenbeek").get("/no-such-page"), 404, "text/html"),
    "html-422": (lambda site: signed_in(site, "molenbeek", manager("molenbeek"))
                 .get("/revenue?year=abc"), 422, "text/html"),
    "unknown-campus-404": (lambda site: site("nowhere").get("/"), 404, "text/html"),
    "foreign-host-400": (lambda site: site(None).client.get("/", base_url="http://evil.com"),
                         400, "text/plain"),
    "csv-export": (lambda site: signed_in(site, "molenbeek", manager("molenbeek"))
                   .get("/revenue/export.csv"), 200, "text/csv"),
    "pdf-invoice": (lambda site: signed_in(site, "molenbeek", manager("molenbeek"))
                    .get(f"/invoices/{INVOICES['molenbeek']}.pdf"), 200, "application/pdf"),
    "static-css": (lambda site: site("molenbeek").get("/static/css/app.css"), 200, "text/css"),
    "static-js": (lambda site: site("molenbeek").get("/static/js/pay.js"), 200,
                  "text/javascript"),
    "healthz": (lambda site: site(None).get("/healthz"), 200, "application/json"),
    "readyz": (lambda site: site("molenbeek").get("/readyz"), 200, "application/json"),
}


@pytest.mark.parametrize("kind", RESPONSES)
def test_every_kind_of_response_carries_the_security_headers(site, base, kind):
    fetch, status, mimetype = RESPONSES[kind]
    with fetch(site) as response:  # closes a static file's handle
        assert (response.status_code, response.mimetype) == (status, mimetype)
        assert_secured(response)
        if mimetype == "text/html":
            assert inline_code(response.get_data(as_text=True)) == []


@pytest.mark.parametrize(("kind", "disposition"), [
    ("csv-export", r'attachment; filename="revenue-molenbeek-\d{4}\.csv"'),
    ("pdf-invoice", rf'inline; filename="{INVOICES["molenbeek"]}\.pdf"'),
])
def test_downloads_keep_their_own_headers_and_get_nosniff(site, base, kind, disposition):
    response = RESPONSES[kind][0](site)
    assert re.fullmatch(disposition, response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_script_and_style_sources_allow_no_inline_or_eval_code(site, base):
    for config in ({}, {"STRIPE_PUBLISHABLE_KEY": "pk_live_x"}):
        response = fresh_app(**config).test_client().get("/healthz")
        policy = policy_of(response)
        for directive in ("default-src", "script-src", "style-src", "object-src"):
            assert not UNSAFE_SOURCES & set(policy[directive]), (config, directive)
    assert not UNSAFE_SOURCES & set(policy_of(site(None).get("/"))["script-src"])


# ---- Stripe's card form -------------------------------------------------------------------------


def fresh_app(**overrides):
    """An app of its own (no feature packages, in-memory SQLite) for header configurations."""
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "CAMPUSFLOW_DOMAIN": "campusflow.example",
              "CAMPUSFLOW_FEATURES": (), "STRIPE_API_KEY": None, "STRIPE_PUBLISHABLE_KEY": None,
              "STRIPE_WEBHOOK_SECRET": None, "STRIPE_API_BASE": None, "HSTS_MAX_AGE": 31536000}
    config.update(overrides)
    return create_app(config)


def test_stripe_origins_are_allowed_only_where_stripe_card_form_can_show():
    stripe = policy_of(fresh_app(STRIPE_PUBLISHABLE_KEY="pk_live_x").test_client()
                       .get("/healthz"))
    assert stripe["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert stripe["frame-src"] == ["https://js.stripe.com", "https://*.js.stripe.com",
                                   "https://hooks.stripe.com"]
    assert stripe["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert stripe["style-src"] == ["'self'"] and stripe["frame-ancestors"] == ["'none'"]
    # A local test server: our own test-card form, no Stripe script; no key: no card form.
    for config in ({"STRIPE_PUBLISHABLE_KEY": "pk_test_x",
                    "STRIPE_API_BASE": "http://127.0.0.1:8420"}, {}):
        policy = policy_of(fresh_app(**config).test_client().get("/healthz"))
        assert policy == OWN_ORIGIN_POLICY, config


def test_stripe_card_page_loads_stripe_js_and_our_own_script_only(stripe_app, base, site):
    order = card_order(stripe_app, base, site)
    with stripe_app.app_context():
        pay = gateway()
        pay.local_server = False  # as in production: cards go into Stripe's own form
    try:
        page = site("molenbeek").get(link_path(order)).get_data(as_text=True)
    finally:
        pay.local_server = True
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts == ['<script src="/static/js/nav.js" defer>',  # the layout's menu button
                       '<script src="https://js.stripe.com/v3/">',
                       '<script src="/static/js/pay.js">']
    assert inline_code(page) == []
    form = re.search(r'<form id="card-form"[^>]*>', page).group(0)
    for attribute in ("data-publishable-key", "data-client-secret", "data-return-url",
                      "data-unavailable"):
        assert f'{attribute}="' in form
    with site("molenbeek").get("/static/js/pay.js") as response:
        script = response.get_data(as_text=True)
    for name in ("publishableKey", "clientSecret", "returnUrl", "unavailable"):
        assert f"dataset.{name}" in script


# ---- HSTS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("environment", "max_age", "scheme", "expected"), [
    ("production", 31536000, "https", "max-age=31536000; includeSubDomains"),
    ("production", 600, "https", "max-age=600; includeSubDomains"),
    ("production", 31536000, "http", None),  # RFC 6797: never over plain HTTP
    ("production", 0, "https", None),
    ("development", 31536000, "https", None),
    ("test", 31536000, "https", None),
])
def test_hsts_is_sent_over_https_in_production_only(environment, max_age, scheme, expected):
    app = fresh_app(CAMPUSFLOW_ENV=environment, HSTS_MAX_AGE=max_age)
    client = app.test_client()
    for path in ("/healthz", "/static/css/app.css", "/no-such-page"):
        with client.get(path, base_url=f"{scheme}://campusflow.example") as response:
            assert response.headers.get("Strict-Transport-Security") == expected, path
            assert response.headers["X-Frame-Options"] == "DENY"


def test_hsts_max_age_comes_from_the_environment():
    from core.config import ConfigError, load_config

    production = {"CAMPUSFLOW_ENV": "production", "SECRET_KEY": "s", "DATABASE_URL": "sqlite://"}
    assert load_config(production)["HSTS_MAX_AGE"] == 31536000
    assert load_config({**production, "HSTS_MAX_AGE": "0"})["HSTS_MAX_AGE"] == 0
    with pytest.raises(ConfigError):
        load_config({**production, "HSTS_MAX_AGE": "one year"})


def test_a_header_a_view_sets_on_purpose_is_kept():
    app = fresh_app()

    @app.get("/embeddable")
    def embeddable():
        return Response("ok", headers={"X-Frame-Options": "SAMEORIGIN",
                                       "Content-Security-Policy": "frame-ancestors 'self'"})

    response = app.test_client().get("/embeddable", base_url="http://campusflow.example")
    assert response.headers.get_all("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.get_all("Content-Security-Policy") == ["frame-ancestors 'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ---- hosts ------------------------------------------------------------------------------------


def test_trusted_hosts_are_the_domain_and_its_subdomains(app):
    assert app.config["TRUSTED_HOSTS"] == ["localhost", ".localhost"]
    assert trusted_hosts("Bench.Test") == ["bench.test", ".bench.test"]
    assert trusted_hosts("campusflow.example:443") == ["campusflow.example",
                                                       ".campusflow.example"]
    bench = trusted_hosts("bench.test")
    for host in ("bench.test", "molenbeek.bench.test", "hq.bench.test:8080"):
        assert host_is_trusted(host, bench), host
    for host in ("bench.test.evil.com", "evilbench.test", "127.0.0.1", "bench.tes"):
        assert not host_is_trusted(host, bench), host


def test_host_spelling_is_made_canonical_before_the_check():
    assert canonical_host("MOLENBEEK.LocalHost.:5000") == "molenbeek.localhost:5000"
    assert canonical_host("Antwerp.localhost.") == "antwerp.localhost"
    assert canonical_host("[::1]:5000") == "[::1]:5000"
    assert canonical_host("molenbeek.localhost..:5000") == "molenbeek.localhost..:5000"


def test_campus_and_apex_hosts_work(site, base):
    assert site("molenbeek").get("/").status_code == 200
    assert site(None).get("/").status_code == 200
    client = site(None).client
    page = client.get("/", environ_overrides={"HTTP_HOST": "Molenbeek.LOCALHOST.:5000"})
    assert page.status_code == 200 and "Molenbeek" in page.get_data(as_text=True)


@pytest.mark.parametrize("host", ["evil.com", "molenbeek.localhost.evil.com:5000",
                                  "127.0.0.1:5000", "10.0.3.17", "[::1]:5000"])
def test_a_foreign_host_is_400_before_any_hook_runs(app, site, base, host):
    client = site(None).client
    for path in ("/", "/login", "/api/v1/learners", "/static/css/app.css"):
        with client.get(path, environ_overrides={"HTTP_HOST": host}) as response:
            assert response.status_code == 400, (host, path)
            assert response.headers["X-Frame-Options"] == "DENY"
    # A sign-in with good credentials on a foreign host starts no session.
    response = client.post("/login", environ_overrides={"HTTP_HOST": host},
                           data={"email": manager("molenbeek"), "password": PASSWORD})
    assert response.status_code == 400 and "Set-Cookie" not in response.headers
    assert app.before_request_funcs[None][0] is refuse_untrusted_host


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "10.0.3.17", "[::1]:5000",
                                  "ip-10-0-3-17.internal", "evil.com", ""])
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_by_ip_address_answer_200(site, base, host, path):
    response = site(None).client.get(path, environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "ok"
    assert_secured(response)
