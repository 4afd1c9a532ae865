"""Host-header fuzzing: the host alone picks the site, and a strange host never lands on a campus.

Hosts are given as the raw `Host` header (`environ_overrides={"HTTP_HOST": ...}`), the way a
server passes it on, so malformed values reach the app instead of being refused by the test client.
Campus pages are recognised by what they show: the campus name ("Molenbeek", "Antwerp") and the
learner markers of the base data.
"""

from __future__ import annotations

import pytest

from tests.support.data import MARKERS, manager

CAMPUS_NAMES = {"molenbeek": "Molenbeek", "antwerp": "Antwerp"}
OTHER_CAMPUS = {"molenbeek": "antwerp", "antwerp": "molenbeek"}
CAMPUS_TEXT = (*CAMPUS_NAMES.values(), *MARKERS.values())
# Pages a campus host serves; a host that is not a campus must show no campus on any of them.
CAMPUS_PATHS = ("/", "/learners", "/api/v1/learners", "/login")

# The configured domain is `localhost:5000` (tests/conftest.py).
CAMPUS_VARIANTS = [
    ("MOLENBEEK.LocalHost:5000", "molenbeek"),
    ("Molenbeek.LOCALHOST", "molenbeek"),
    ("molenbeek.localhost:8080", "molenbeek"),
    ("molenbeek.localhost", "molenbeek"),
    ("molenbeek.localhost.:5000", "molenbeek"),
    ("molenbeek.localhost.", "molenbeek"),
    ("ANTWERP.localhost:5000", "antwerp"),
    ("antwerp.localhost.", "antwerp"),
]
FOREIGN_HOSTS = [
    "molenbeek.localhost.evil.com",
    "molenbeek.localhost.evil.com:5000",
    "molenbeeklocalhost:5000",
    "evil-localhost:5000",
    "evillocalhost",
    "localhost.evil.com",
    "localhost.evil.com:5000",
    "molenbeek.localhost5000",
    "molenbeek.local",
    "evil.com",
]
RESERVED_HOSTS = [
    "api.localhost:5000",
    "admin.localhost:5000",
    "static.localhost:5000",
    "API.localhost:5000",
    "static.localhost.",
]
UNKNOWN_HOSTS = [
    "nope.localhost:5000",
    "molenbee.localhost:5000",
    "molenbeek-2.localhost:5000",
    "1molenbeek.localhost:5000",
]
NESTED_HOSTS = [
    "a.molenbeek.localhost:5000",
    "www.molenbeek.localhost:5000",
    "hq.molenbeek.localhost:5000",
    "molenbeek.molenbeek.localhost:5000",
    "antwerp.molenbeek.localhost",
]
GARBAGE_HOSTS = [
    "[::1]:5000",
    "[::1]",
    "127.0.0.1:5000",
    "127.0.0.1",
    "user@molenbeek.localhost",
    "molenbeek.localhost:5000@evil.com",
    "molenbeek.localhost@evil.com",
    "",
    " ",
    "molenbeek.localhost:abc",
    "molenbeek.localhost:5000:6000",
    "molenbeek .localhost",
    "molenbeek.localhost/evil",
    "molenbeek.localhost\\evil",
    "molenbeek.localhost%00",
    "molenbeek.localhost;evil.com",
    " molenbeek.localhost:5000 ",
    "molenbeek_.localhost:5000",
    "molenbeek.localhost\r\nX-Evil: 1",
]
# Hosts with an empty or over-long DNS label: Werkzeug cannot bind the URL map to them
# (routing raises BadHost and leaves `request.url_adapter` None).
# Not DNS names of ours, though Werkzeug binds them: refused as foreign.
MALFORMED_HOSTS = [
    "-molenbeek.localhost:5000",
    "molenbeek-.localhost:5000",
    "molenbeek.localhost:50x0",
    "molenbeek_campus.localhost:5000",
]
UNBINDABLE_HOSTS = [
    "molenbeek..localhost:5000",
    ".localhost:5000",
    "molenbeek.localhost..:5000",
    "MOLENBEEK.localhost..",
    "a" * 64 + ".localhost:5000",
]
@pytest.fixture
def get(app, db_session):
    """`get(host, path)` → the response to GET `path` with that raw Host header."""
    client = app.test_client()

    def fetch(host: str, path: str = "/", **kwargs):
        return client.get(path, environ_overrides={"HTTP_HOST": host}, **kwargs)

    return fetch


def shows_a_campus(response) -> list[str]:
    body = response.get_data(as_text=True)
    return [text for text in CAMPUS_TEXT if text in body]


def assert_no_campus_anywhere(get, host: str, statuses: tuple[int, ...]) -> None:
    for path in CAMPUS_PATHS:
        try:
            response = get(host, path)
        except Exception as error:
            pytest.fail(f"GET {path} with Host {host!r} crashed the app: {error!r}")
        assert response.status_code in statuses, (host, path, response.status_code)
        assert not shows_a_campus(response), (host, path, shows_a_campus(response))


@pytest.mark.parametrize(("host", "campus"), CAMPUS_VARIANTS)
def test_campus_host_variants_resolve_to_that_campus(get, host, campus):
    response = get(host)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert CAMPUS_NAMES[campus] in body
    assert CAMPUS_NAMES[OTHER_CAMPUS[campus]] not in body


def test_campus_page_shows_its_own_campus_and_never_the_other(site):
    molenbeek = site("molenbeek")
    public = molenbeek.get("/").get_data(as_text=True)
    assert "Molenbeek" in public and "Antwerp" not in public
    assert molenbeek.sign_in(manager("molenbeek")).status_code == 302
    dashboard = molenbeek.get("/").get_data(as_text=True)
    assert "Molenbeek" in dashboard and "Antwerp" not in dashboard
    learners = molenbeek.get("/learners").get_data(as_text=True)
    assert MARKERS["molenbeek"] in learners and MARKERS["antwerp"] not in learners


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_lookalike_hosts_of_another_domain_are_400(get, host):
    assert_no_campus_anywhere(get, host, (400,))


@pytest.mark.parametrize("host", RESERVED_HOSTS)
def test_reserved_subdomains_are_404_and_never_a_campus(get, host):
    assert_no_campus_anywhere(get, host, (404,))


@pytest.mark.parametrize("host", UNKNOWN_HOSTS)
def test_unknown_subdomain_is_404_not_a_fallback_campus(get, host):
    assert_no_campus_anywhere(get, host, (404,))


@pytest.mark.parametrize("host", MALFORMED_HOSTS)
def test_malformed_host_names_are_400_never_a_campus(get, host):
    assert_no_campus_anywhere(get, host, (400,))


@pytest.mark.parametrize("host", NESTED_HOSTS)
def test_nested_subdomain_is_404_never_the_inner_campus(get, host):
    assert_no_campus_anywhere(get, host, (404,))


@pytest.mark.parametrize("host", GARBAGE_HOSTS)
def test_garbage_hosts_are_refused_without_campus_data(get, host):
    assert_no_campus_anywhere(get, host, (400, 404))


@pytest.mark.parametrize("host", UNBINDABLE_HOSTS)
def test_hosts_with_empty_dns_labels_are_refused_without_crashing(get, host):
    assert_no_campus_anywhere(get, host, (400, 404))


@pytest.mark.parametrize("host", UNBINDABLE_HOSTS)
def test_json_errors_for_unbindable_hosts_do_not_crash(get, host):
    """The JSON error shape needs no URL building: the API answers these hosts with a 4xx."""
    for path in ("/api/v1/learners", "/healthz"):
        response = get(host, path)
        assert 400 <= response.status_code < 500, (host, path, response.status_code)
        assert not shows_a_campus(response)


@pytest.mark.parametrize("host", ["www.localhost:5000", "WWW.localhost", "www.localhost."])
def test_www_is_the_public_apex(get, host):
    apex = get("localhost:5000")
    www = get(host)
    assert apex.status_code == www.status_code == 200
    assert www.get_data() == apex.get_data()
    assert not any(marker in www.get_data(as_text=True) for marker in MARKERS.values())


@pytest.mark.parametrize("host", ["hq.localhost:5000", "HQ.LocalHost", "partners.localhost."])
def test_named_sites_ask_for_sign_in_and_show_no_learners(get, host):
    response = get(host)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert not any(marker in response.get_data(as_text=True) for marker in MARKERS.values())


@pytest.mark.parametrize("host", [
    "localhost:5000", "molenbeek.localhost:5000", "antwerp.localhost:5000", "hq.localhost:5000",
    "partners.localhost:5000", "www.localhost:5000",
    *(host for host, _campus in CAMPUS_VARIANTS), *FOREIGN_HOSTS, *RESERVED_HOSTS,
    *UNKNOWN_HOSTS, *NESTED_HOSTS, *GARBAGE_HOSTS,
])
def test_healthz_answers_200_on_every_host(get, host):
    response = get(host, "/healthz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ok"}

