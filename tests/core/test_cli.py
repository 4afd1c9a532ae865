"""`flask campus create`, `flask users create` and `flask seed-demo`."""

import pytest
from sqlalchemy import func, select

from core.auth.models import User
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.learners.models import Learner
from tenants.scoping import all_campuses

GHENT = ["campus", "create", "--slug", "ghent", "--name", "Ghent", "--city", "Gent",
         "--country", "BE", "--currency", "EUR", "--timezone", "Europe/Brussels",
         "--locale", "nl_BE"]


def run(app, args, **kwargs):
    return app.test_cli_runner().invoke(args=args, **kwargs)


def campus_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Campus))


def test_campus_create_opens_a_site_with_no_code_change(app, db_session, site):
    result = run(app, GHENT)
    assert result.exit_code == 0, result.output
    assert "Campus ghent created" in result.output
    response = site("ghent").get("/")
    assert response.status_code == 200
    assert "Ghent" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--currency", "EUX", "Unknown currency EUX"),
        ("--timezone", "Europe/Gent", "Unknown timezone Europe/Gent"),
        ("--slug", "hq", "hq is reserved"),
        ("--slug", "Ghent!", "lower-case letters"),
        ("--slug", "-ghent", "lower-case letters"),
        ("--country", "XX", "Unknown country code XX"),
        ("--locale", "zz_ZZ", "Unknown locale zz_ZZ"),
    ],
)
def test_campus_create_refuses_bad_input_with_a_clear_message(app, db_session, option, value,
                                                               message):
    args = list(GHENT)
    args[args.index(option) + 1] = value
    before = campus_count(app)
    result = run(app, args)
    assert result.exit_code != 0
    assert message in result.output
    assert campus_count(app) == before


def test_campus_create_refuses_a_duplicate_slug(app, db_session, base):
    args = list(GHENT)
    args[args.index("--slug") + 1] = "molenbeek"
    result = run(app, args)
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_users_create_reads_the_password_from_stdin(app, db_session, base, site):
    result = run(app, ["users", "create", "--email", "new.manager@campusflow.test",
                       "--role", "campus_manager", "--campus", "antwerp", "--password-stdin"],
                 input="a-long-enough-password\n")
    assert result.exit_code == 0, result.output
    antwerp = site("antwerp")
    response = antwerp.sign_in("new.manager@campusflow.test", "a-long-enough-password")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "campus_manager"], "exactly one campus"),
        (["--role", "campus_staff", "--campus", "nowhere"], "no campus with slug 'nowhere'"),
        (["--role", "partner_contact"], "exactly one partner"),
        (["--role", "hq_admin", "--campus", "antwerp"], "exactly one campus"),
        (["--role", "partner_contact", "--partner", "nobody"], "no partner with slug 'nobody'"),
    ],
)
def test_users_create_refuses_a_role_without_its_home(app, db_session, base, args, message):
    result = run(app, ["users", "create", "--email", "x@campusflow.test", *args,
                       "--password-stdin"], input="a-long-enough-password\n")
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "x@campusflow.test")) is None


def test_users_create_refuses_a_short_password(app, db_session, base):
    result = run(app, ["users", "create", "--email", "y@campusflow.test", "--role", "hq_admin",
                       "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_seed_demo_is_safe_to_run_twice(app, db_session):
    first = run(app, ["seed-demo"])
    assert first.exit_code == 0, first.output
    with app.app_context(), all_campuses(db.session):
        counts = (campus_count(app), db.session.scalar(select(func.count()).select_from(User)),
                  db.session.scalar(select(func.count()).select_from(Learner)))
    second = run(app, ["seed-demo"])
    assert second.exit_code == 0, second.output
    with app.app_context(), all_campuses(db.session):
        again = (campus_count(app), db.session.scalar(select(func.count()).select_from(User)),
                 db.session.scalar(select(func.count()).select_from(Learner)))
    assert counts == again
    assert "manager@casablanca.campusflow.test" in second.output
    with app.app_context():
        casablanca = db.session.scalar(select(Campus).where(Campus.slug == "casablanca"))
        assert (casablanca.currency, casablanca.timezone) == ("MAD", "Africa/Casablanca")
        assert casablanca.default_locale.startswith("fr")
