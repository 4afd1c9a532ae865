"""Sign-in on the right site only, throttling, safe redirects and cookie flags."""

import pytest

from core.config import load_config
from tests.support.data import HQ, PARTNER_CONTACT, manager, staff


def signed_in(site) -> bool:
    return site.get("/learners").status_code == 200


def test_manager_signs_in_on_own_campus_and_sees_learners(site, base):
    molenbeek = site("molenbeek")
    response = molenbeek.sign_in(manager("molenbeek"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in(molenbeek)


def test_manager_is_refused_on_another_campus_site(site, base):
    antwerp = site("antwerp")
    response = antwerp.sign_in(manager("molenbeek"))
    assert response.status_code == 200
    assert "Wrong e-mail or password, or no access to this site." in response.get_data(as_text=True)
    assert antwerp.get("/learners").status_code == 302


@pytest.mark.parametrize(
    ("email", "allowed", "refused"),
    [
        (HQ, ["hq", "molenbeek", "antwerp"], ["partners"]),
        (staff("antwerp"), ["antwerp"], ["hq", "molenbeek", "partners"]),
        (PARTNER_CONTACT, ["partners"], ["hq", "molenbeek", "antwerp"]),
    ],
)
def test_each_role_signs_in_only_where_it_belongs(site, base, email, allowed, refused):
    for subdomain in allowed:
        assert site(subdomain).sign_in(email).status_code == 302, subdomain
    for subdomain in refused:
        assert site(subdomain).sign_in(email).status_code == 200, subdomain


def test_there_is_no_sign_in_on_the_public_apex(site, base):
    assert site(None).get("/login").status_code == 404


def test_unknown_email_and_wrong_password_get_the_same_answer(site, base):
    molenbeek = site("molenbeek")
    unknown = molenbeek.sign_in("nobody@campusflow.test").get_data(as_text=True)
    wrong = molenbeek.sign_in(manager("molenbeek"), "not-the-password").get_data(as_text=True)
    message = "Wrong e-mail or password, or no access to this site."
    assert message in unknown and message in wrong


def test_session_cookie_copied_to_another_campus_host_is_ignored(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    cookie = molenbeek.client.get_cookie("session", domain="molenbeek.localhost")
    assert cookie is not None
    antwerp = site("antwerp")
    antwerp.client.set_cookie("session", cookie.value, domain="antwerp.localhost")
    assert antwerp.get("/learners").status_code == 302


def test_session_cookie_is_host_only_httponly_and_lax(site, base):
    response = site("molenbeek").sign_in(manager("molenbeek"))
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Domain=" not in header


def test_cookies_are_secure_in_production():
    config = load_config({"CAMPUSFLOW_ENV": "production", "SECRET_KEY": "x" * 32,
                          "DATABASE_URL": "postgresql+psycopg://app@db/campusflow"})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_DOMAIN"] is None
    assert load_config({"CAMPUSFLOW_ENV": "development"})["SESSION_COOKIE_SECURE"] is False


def test_production_without_secret_key_refuses_to_boot():
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"CAMPUSFLOW_ENV": "production", "DATABASE_URL": "sqlite://"})


@pytest.mark.parametrize("target", ["/learners?q=a", "/learners"])
def test_sign_in_follows_a_local_next(site, base, target):
    response = site("molenbeek").post(
        "/login", data={"email": manager("molenbeek"), "password": "correct-horse-battery",
                        "next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", ["//evil.example/x", "http://evil.example/", "\\\\evil.example",
                                    "https:evil.example", "javascript:alert(1)"])
def test_sign_in_ignores_a_next_pointing_elsewhere(site, base, target):
    response = site("molenbeek").post(
        "/login", data={"email": manager("molenbeek"), "password": "correct-horse-battery",
                        "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_unauthenticated_page_redirects_to_sign_in_with_next(site, base):
    response = site("molenbeek").get("/learners?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_repeated_failed_sign_ins_are_throttled(site, base):
    molenbeek = site("molenbeek")
    for _ in range(5):
        assert molenbeek.sign_in(manager("molenbeek"), "wrong-password").status_code == 200
    throttled = molenbeek.sign_in(manager("molenbeek"), "wrong-password")
    assert throttled.status_code == 429
    # Even the right password waits until the window passes.
    assert molenbeek.sign_in(manager("molenbeek")).status_code == 429


def test_successful_sign_ins_do_not_count_towards_the_throttle(site, base):
    for _ in range(8):
        assert site("molenbeek").sign_in(manager("molenbeek")).status_code == 302


def test_sign_out_ends_the_session(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.post("/logout").status_code == 302
    assert molenbeek.get("/learners").status_code == 302


def test_sign_in_form_requires_csrf_token(app, db_session, base):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post("/login", base_url="http://molenbeek.localhost:5000",
                               data={"email": manager("molenbeek"),
                                     "password": "correct-horse-battery"})
        assert response.status_code == 400
        after = client.get("/learners", base_url="http://molenbeek.localhost:5000")
        assert after.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_passwords_are_stored_as_argon2id_hashes(app, db_session, base):
    from sqlalchemy import select

    from core.auth.models import User
    from core.extensions import db

    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.email == HQ))
    assert stored.startswith("$argon2id$")
    assert "correct-horse-battery" not in stored
