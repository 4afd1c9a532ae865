"""E-mail (core.mail) in the recipient's language, sent only once the action commits, over a real
SMTP server on 127.0.0.1 (aiosmtpd): application received, admission, invoice issued; a failed
or rolled-back action sends nothing; an SMTP server down never undoes the action; the
development outbox; the settings.
"""

from __future__ import annotations

import socket
import stat
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale, gettext
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select

import tenants.applications.views
from billing.entities.services import entity_for_campus_id
from billing.invoices.models import InvoiceKind
from billing.invoices.services import LineInput, create_invoice, credit_invoice, issue_invoice
from core import mail
from core.config import ConfigError, load_config
from core.extensions import db
from core.partners.models import Partner
from tenants.applications.models import Application
from tenants.scoping import campus_scope
from tests.support.data import PARTNER_CONTACT, manager

FRENCH_TITLE = "Analyste en cybersécurité"  # the course's French title (English for Dutch)
ENGLISH_TITLE = "Cybersecurity analyst"
DASH = "\N{EN DASH}"  # between the subject's words and the course title
RECEIVED = "We received your application to %(course)s, starting on %(start)s."


# --- the catalogues as they are now (tests/support/catalogues.py) -------------------------------


@pytest.fixture(autouse=True)
def real_catalogues(translated):
    """Mails are read in the catalogues as they are now (tests/support/catalogues.py)."""


# --- a real SMTP server ----------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for recipients, m in self.received if address in recipients]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SimpleNamespace(inbox=inbox, port=controller.port)
    controller.stop()


@pytest.fixture
def inbox(app, smtp_server, monkeypatch) -> Inbox:
    """The app delivering to the test's SMTP server, its inbox empty."""
    smtp_server.inbox.received.clear()
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port,
                       "MAIL_USE_TLS": False, "MAIL_USERNAME": None, "MAIL_OUTBOX": None}.items():
        monkeypatch.setitem(app.config, key, value)
    return smtp_server.inbox


def translated(app, language: str, text: str, **values) -> str:
    """`text` from the `language` catalogue; fails if the catalogue does not translate it."""
    with app.test_request_context():
        with force_locale(language):
            found = gettext(text, **values)
        with force_locale("en"):
            english = gettext(text, **values)
    assert found != english, f"no {language} translation of {text!r} (translations/)"
    return found


def form(**changes) -> dict:
    data = {"full_name": "Amina Lahlou", "email": "amina@example.org", "phone": "",
            "motivation": "I want to work in a SOC.", "consent": "on"}
    data.update(changes)
    return data


def applications_of(app, campus_id: int, email: str) -> int:
    with app.app_context(), campus_scope(campus_id, db.session):
        return db.session.scalar(select(func.count()).select_from(Application).where(
            Application.email == email))


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def flat(text: str) -> str:
    """`text` with its lines joined (long lines of a plain-text e-mail are wrapped)."""
    return " ".join(text.split())


# --- the applicant -----------------------------------------------------------------------------


def test_a_french_applicant_on_molenbeek_gets_subject_and_body_in_french(app, site, base, inbox):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    response = site("molenbeek").post(f"/apply/{cohort_id}", data=form())
    assert response.status_code == 302
    [message] = inbox.to("amina@example.org")
    assert message["Content-Language"] == "fr-BE"
    assert message["Subject"] == (f"{translated(app, 'fr_BE', 'Application received')} {DASH} "
                                  f"{FRENCH_TITLE}")
    assert translated(app, "fr_BE", RECEIVED, course=FRENCH_TITLE,
                      start="11 janvier 2027") in flat(body(message))
    assert "Amina Lahlou" in body(message)
    assert "http://molenbeek.localhost:5000/apply" in body(message)
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["Auto-Submitted"] == "auto-generated"


def test_a_dutch_applicant_on_antwerp_gets_subject_and_body_in_dutch(app, site, base, inbox):
    cohort_id = base.owned["cohort"]["antwerp"][0]
    response = site("antwerp").post(f"/apply/{cohort_id}", data=form(email="jan@example.be",
                                                                     full_name="Jan Peeters"))
    assert response.status_code == 302
    [message] = inbox.to("jan@example.be")
    assert message["Content-Language"] == "nl-BE"
    assert message["Subject"] == (f"{translated(app, 'nl_BE', 'Application received')} {DASH} "
                                  f"{ENGLISH_TITLE}")  # no Dutch title: English, as on the page
    assert translated(app, "nl_BE", RECEIVED, course=ENGLISH_TITLE,
                      start="11 januari 2027") in flat(body(message))


def test_the_mail_is_in_the_language_of_the_page_applied_on(app, site, base, inbox):
    molenbeek = site("molenbeek")
    with molenbeek.client.session_transaction(base_url=molenbeek.base_url) as session:
        session["locale"] = "nl"  # the visitor chose Dutch on the Molenbeek site
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    assert molenbeek.post(f"/apply/{cohort_id}", data=form()).status_code == 302
    [message] = inbox.to("amina@example.org")
    assert message["Content-Language"] in ("nl", "nl-BE")  # Dutch, in Belgium or not
    assert message["Subject"].startswith(translated(app, "nl", "Application received"))


def test_the_admitted_applicant_is_told_in_the_campus_language(app, site, base, inbox):
    molenbeek = site("molenbeek")
    assert molenbeek.sign_in(manager("molenbeek")).status_code == 302
    application_id = base.owned["application"]["molenbeek"][0]
    response = molenbeek.post(f"/applications/{application_id}/decision",
                              data={"decision": "admit"})
    assert response.status_code == 302
    [message] = inbox.to("applicant@molenbeek.example")
    assert message["Content-Language"] == "fr-BE"
    assert FRENCH_TITLE in message["Subject"] and "Molenbeek" in message["Subject"]
    text = body(message)
    assert "11 janvier 2027" in text and "30 juin 2027" in text  # the cohort's dates, in French
    assert f"{translated(app, 'fr_BE', 'Schedule')}: Mon-Fri 9:00-16:00" in text
    assert len(inbox.received) == 1  # the manager's action tells no one else


def test_the_admission_is_written_in_the_language_the_applicant_applied_in(app, site, base,
                                                                          inbox):
    public = site("molenbeek")
    with public.client.session_transaction(base_url=public.base_url) as session:
        session["locale"] = "nl"  # applied in Dutch on the French-speaking campus
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    assert public.post(f"/apply/{cohort_id}", data=form()).status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        application = db.session.scalar(
            select(Application).where(Application.email == "amina@example.org"))
        assert application.language == "nl_BE"
        application_id = application.id
    manager_site = site("molenbeek")
    assert manager_site.sign_in(manager("molenbeek")).status_code == 302
    assert manager_site.post(f"/applications/{application_id}/decision",
                             data={"decision": "admit"}).status_code == 302
    received, admitted = inbox.to("amina@example.org")
    assert received["Content-Language"] == admitted["Content-Language"] == "nl-BE"
    # … though the manager's page was French.
    assert translated(app, "nl", "You are admitted to %(course)s at %(campus)s",
                      course=ENGLISH_TITLE, campus="Molenbeek") in flat(admitted["Subject"])


def test_a_refused_decision_sends_nothing(app, site, base, inbox):
    molenbeek = site("molenbeek")
    assert molenbeek.sign_in(manager("molenbeek")).status_code == 302
    application_id = base.owned["application"]["molenbeek"][0]
    response = molenbeek.post(f"/applications/{application_id}/decision",
                              data={"decision": "reject", "reason": ""})
    assert response.status_code == 422
    assert inbox.received == []


# --- only what commits -------------------------------------------------------------------------


def test_nothing_is_sent_when_the_request_fails_after_the_mail_was_queued(app, site, base, inbox,
                                                                         monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the page broke after the application was recorded")

    monkeypatch.setattr(tenants.applications.views, "flash", broken)
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    response = site("molenbeek").post(f"/apply/{cohort_id}", data=form())
    assert response.status_code == 500
    assert applications_of(app, base.campus_ids["molenbeek"], "amina@example.org") == 0
    assert inbox.received == []


def test_a_rolled_back_savepoint_drops_its_mail_and_the_commit_sends_the_rest(app, base, inbox):
    molenbeek = base.campus_ids["molenbeek"]
    with app.test_request_context(), campus_scope(molenbeek, db.session):
        from tenants.applications.services import apply
        from tenants.cohorts.services import get_cohort

        cohort = get_cohort(base.owned["cohort"]["molenbeek"][0])
        apply(cohort, {"full_name": "Kept", "email": "kept@example.org", "motivation": "Yes.",
                       "consent": True})
        savepoint = db.session.begin_nested()
        apply(cohort, {"full_name": "Dropped", "email": "dropped@example.org",
                       "motivation": "Yes.", "consent": True})
        savepoint.rollback()
        assert inbox.received == []  # nothing before the commit
        db.session.commit()
        assert [r for r, _m in inbox.received] == [["kept@example.org"]]
        apply(get_cohort(cohort.id), {"full_name": "Rolled back", "email": "back@example.org",
                                      "motivation": "Yes.", "consent": True})
        db.session.rollback()
        db.session.commit()
    assert len(inbox.received) == 1


def test_an_smtp_server_down_never_undoes_the_action_and_is_logged(app, site, base, inbox,
                                                                   monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    with caplog.at_level("ERROR", logger="core.mail"):
        response = site("molenbeek").post(f"/apply/{cohort_id}", data=form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/apply/{cohort_id}/received")
    assert applications_of(app, base.campus_ids["molenbeek"], "amina@example.org") == 1
    [record] = [r for r in caplog.records if r.name == "core.mail"]
    assert record.levelname == "ERROR" and "application_received" in record.getMessage()
    assert "a***@example.org" in record.getMessage()  # the address masked in the log


# --- the partner -------------------------------------------------------------------------------


def test_issuing_an_invoice_mails_the_partner_contacts_with_the_pdf(app, base, inbox):
    molenbeek = base.campus_ids["molenbeek"]
    with app.test_request_context(), campus_scope(molenbeek, db.session):
        partner = db.session.get(Partner, base.partner_id)
        draft = create_invoice(kind=InvoiceKind.PARTNER, issuer=entity_for_campus_id(molenbeek),
                               currency="EUR", partner=partner,
                               lines=[LineInput("Sponsorship", 1, 100000)])
        db.session.commit()
        assert inbox.received == []  # a draft tells no one
        number = issue_invoice(draft, issued_on=date(2026, 11, 20)).number
        assert inbox.received == []
        db.session.commit()
    contact, billing = inbox.to(PARTNER_CONTACT), inbox.to("ap@microsoft.test")
    assert len(contact) == len(billing) == 1 and len(inbox.received) == 2
    for message in (contact[0], billing[0]):
        assert message["Content-Language"] == "fr-BE"  # no locale of their own: the campus's
        assert message["Subject"].startswith(
            translated(app, "fr_BE", "Invoice %(number)s", number=number))
        text = body(message)
        assert "20 novembre 2026" in text and f"/invoices/{number}" in text
        [pdf] = list(message.iter_attachments())
        assert pdf.get_filename() == f"{number}.pdf"
        assert pdf.get_content().startswith(b"%PDF")
    assert "Microsoft" in body(billing[0]).splitlines()[0]  # greeted by the partner's name


def test_a_credit_note_is_mailed_as_a_credit_note_and_royalty_statements_are_not(app, base,
                                                                                  inbox):
    from billing.entities.services import hq_entity
    from billing.invoices.services import get_invoice
    from tests.support.data import INVOICES

    molenbeek = base.campus_ids["molenbeek"]
    with app.test_request_context(), campus_scope(molenbeek, db.session):
        original = get_invoice(INVOICES["molenbeek"])
        note = credit_invoice(original, issued_on=date(2026, 11, 21), reason="Wrong month")
        statement = create_invoice(kind=InvoiceKind.ROYALTY, issuer=hq_entity(), currency="EUR",
                                   lines=[LineInput("Royalties", 1, 1000)])
        issue_invoice(statement, issued_on=date(2026, 12, 1))
        db.session.commit()
        number = note.number
    [message] = inbox.to(PARTNER_CONTACT)
    assert message["Subject"].startswith(translated(app, "fr_BE", "Credit note"))
    assert number in message["Subject"] and INVOICES["molenbeek"] in body(message)
    assert len(inbox.received) == 2  # the contact and the billing address; HQ's statement: none


# --- where messages go -------------------------------------------------------------------------


def test_in_development_messages_are_eml_files_in_the_outbox_readable_by_the_owner(
        app, site, base, monkeypatch, tmp_path):
    outbox = tmp_path / "outbox"
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", str(outbox))
    cohort_id = base.owned["cohort"]["antwerp"][0]
    assert site("antwerp").post(f"/apply/{cohort_id}", data=form()).status_code == 302
    [path] = list(outbox.iterdir())
    assert path.suffix == ".eml" and "application_received" in path.name
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # personal data
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "amina@example.org" and message["Content-Language"] == "nl-BE"


def test_development_defaults_to_the_instance_outbox_and_production_to_smtp_only(tmp_path):
    development = load_config({"CAMPUSFLOW_ENV": "development"}, instance_path=str(tmp_path))
    assert development["MAIL_SERVER"] is None
    assert development["MAIL_OUTBOX"] == str(tmp_path.resolve() / "outbox")
    production = load_config({"CAMPUSFLOW_ENV": "production", "SECRET_KEY": "x",
                              "DATABASE_URL": "sqlite://", "CAMPUSFLOW_DOMAIN": "campusflow.eu",
                              "MAIL_SERVER": "smtp.campusflow.eu", "MAIL_USERNAME": "mailer",
                              "MAIL_PASSWORD": "secret"}, instance_path=str(tmp_path))
    assert production["MAIL_OUTBOX"] is None
    assert (production["MAIL_USE_TLS"], production["MAIL_PORT"]) == (True, 587)
    assert production["MAIL_FROM"] == "Campusflow <no-reply@campusflow.eu>"
    with pytest.raises(ConfigError, match="in clear"):
        load_config({"CAMPUSFLOW_ENV": "production", "SECRET_KEY": "x", "DATABASE_URL": "x",
                     "MAIL_SERVER": "smtp.example", "MAIL_USERNAME": "u", "MAIL_USE_TLS": "0"})
    with pytest.raises(ConfigError, match="MAIL_PORT"):
        load_config({"CAMPUSFLOW_ENV": "test", "MAIL_PORT": "smtp"})


def test_with_no_server_and_no_outbox_a_message_is_only_logged(app, site, base, monkeypatch,
                                                               caplog):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", None)
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    with caplog.at_level("INFO", logger="core.mail"):
        assert site("molenbeek").post(f"/apply/{cohort_id}", data=form()).status_code == 302
    [record] = [r for r in caplog.records if r.name == "core.mail"]
    assert "not sent: MAIL_SERVER is not set" in record.getMessage()


def test_the_demo_seed_sends_nothing(app, db_session, inbox, monkeypatch):
    def seeder(_password: str) -> list[str]:
        mail.send("someone@example.org", "application_received", "fr_BE",
                  application=SimpleNamespace(full_name="Demo"), course_title="Demo",
                  cohort=SimpleNamespace(starts_on=date(2027, 1, 11)),
                  campus=SimpleNamespace(name="Demo", city="Brussels"), campus_url="http://x")
        return []

    monkeypatch.setitem(app.extensions, "campusflow.seeders", [seeder])
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert inbox.received == []


def test_an_html_template_next_to_the_text_one_becomes_the_html_alternative(app, base, inbox,
                                                                            monkeypatch):
    extra = DictLoader({"mail/hello.txt": "{% extends 'mail/_layout.txt' %}{% block subject %}"
                                          "Hello {{ name }}{% endblock %}{% block body %}"
                                          "{{ name }}, hello.{% endblock %}",
                        "mail/hello.html": "<p>{{ name }}, hello.</p>"})
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([extra, app.jinja_env.loader]))
    with app.test_request_context():
        mail.send(["a@example.org", "b@example.org"], "hello", "it", name="<Ada>")
        db.session.commit()
    [(recipients, message)] = inbox.received
    assert recipients == ["a@example.org", "b@example.org"]
    assert message["Subject"] == "Hello <Ada>" and message["Content-Language"] == "it"
    assert body(message).startswith("<Ada>, hello.\n\n")  # then the layout's footer
    assert "<p>&lt;Ada&gt;, hello.</p>" in message.get_body(("html",)).get_content()
