"""Languages (core/i18n.py): which language and locale a request speaks, the switcher, Arabic on
Casablanca's public pages, course texts in each language, invoice PDFs, and the catalogues."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import render_template, render_template_string, session
from markupsafe import escape
from pypdf import PdfReader

from core.auth.models import Role, User
from core.auth.services import create_user
from core.extensions import db
from core.i18n import select_locale
from core.money import format_money
from tenants.campuses.services import create_campus
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.scoping import campus_scope
from tests.support.data import INVOICES, PARTNER_CONTACT, PASSWORD, manager

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
DOMAIN = "localhost:5000"
CASABLANCA_MANAGER = "manager@casablanca.campusflow.test"
# Placeholders a translation must keep: %(name)s, %s, %%, and marshmallow's {min}.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|%%|\{\w*\}")
# The templates and modules whose strings the Casablanca public pages show, in Arabic.
ARABIC_SOURCES = (
    "templates/campus/public.html", "templates/public/*.html",
    "templates/applications/apply_*.html", "templates/events/public_index.html",
    "templates/events/register.html", "templates/events/registered.html",
    "templates/base.html", "templates/_forms.html", "templates/errors/*.html",
    "templates/_language.html",
    "tenants/applications/schemas.py", "tenants/events/schemas.py",
)


@pytest.fixture(autouse=True)
def real_catalogues(translated):
    """Every test here reads the catalogues as they are now (tests/support/catalogues.py)."""


def text(response) -> str:
    return response.get_data(as_text=True)


def gettext_in(folder: Path, language: str, message: str) -> str:
    return Translations.load(str(folder), [language]).gettext(message)


def shown(message: str) -> str:
    """`message` as an autoescaped template writes it."""
    return str(escape(message))


def html_tag(body: str) -> str:
    match = re.search(r"<html[^>]*>", body)
    assert match, "no <html> tag"
    return match.group(0)


def add_campus(app, slug: str, city: str, country: str, currency: str, timezone: str,
               locale: str) -> int:
    with app.app_context():
        campus = create_campus(slug=slug, name=city, city=city, country=country,
                               currency=currency, timezone=timezone, locale=locale,
                               status="open")
        db.session.commit()
        return campus.id


def add_casablanca(app) -> int:
    campus_id = add_campus(app, "casablanca", "Casablanca", "MA", "MAD", "Africa/Casablanca",
                           "fr_MA")
    with app.app_context():
        create_user(CASABLANCA_MANAGER, Role.CAMPUS_MANAGER, PASSWORD, campus_id=campus_id)
        db.session.commit()
    return campus_id


def add_padua(app) -> int:
    return add_campus(app, "padua", "Padova", "IT", "EUR", "Europe/Rome", "it_IT")


def open_cohort(app, campus_id: int, course_id: int, price_minor: int, currency: str) -> None:
    with app.app_context(), campus_scope(campus_id, db.session):
        db.session.add(Cohort(course_id=course_id, starts_on=date(2027, 2, 1),
                              ends_on=date(2027, 7, 30), schedule="Mon-Fri", seats=12,
                              language="en", price_minor=price_minor, currency=currency,
                              funding=Funding.PAID, status=CohortStatus.OPEN))
        db.session.commit()


def price_base_cohort(app, base, slug: str, price_minor: int) -> None:
    campus_id = base.campus_ids[slug]
    with app.app_context(), campus_scope(campus_id, db.session):
        cohort = db.session.get(Cohort, (campus_id, base.owned["cohort"][slug][-1]))
        cohort.price_minor, cohort.funding = price_minor, Funding.PAID
        db.session.commit()


def request_locale(app, host: str, headers: dict | None = None, chosen: str | None = None,
                   path: str = "/") -> str:
    """The locale `select_locale` picks for an anonymous GET of `path` on `host`."""
    with app.test_request_context(path, base_url=f"http://{host}", headers=headers or {}):
        if chosen:
            session["locale"] = chosen
        app.preprocess_request()
        return select_locale()


def choose(client, locale: str, next_path: str = "/"):
    return client.post("/language", data={"locale": locale, "next": next_path})


# --- where translations come from ------------------------------------------------------------

@pytest.mark.parametrize(("locale", "language"), [("fr_BE", "fr"), ("fr_MA", "fr"),
                                                  ("nl_NL", "nl"), ("it_IT", "it"),
                                                  ("ar_MA", "ar")])
def test_a_territory_locale_loads_the_catalogue_of_its_language(compiled, locale, language):
    territorial = Translations.load(str(compiled), [Locale.parse(locale)])
    plain = Translations.load(str(compiled), [language])
    assert territorial.gettext("Sign out") == plain.gettext("Sign out")
    assert territorial.gettext("Skip to content") != "Skip to content"
    assert Translations.load(str(compiled), [Locale.parse("fr_BE")]).gettext(
        "Sign in") == "Se connecter"


# --- which locale a request speaks -------------------------------------------------------------

@pytest.mark.parametrize(("host", "headers", "chosen", "expected"), [
    ("molenbeek", {}, None, "fr_BE"),  # the campus's default
    ("antwerp", {"Accept-Language": "fr-BE,fr;q=0.9"}, None, "nl_BE"),  # default beats browser
    ("molenbeek", {}, "nl", "nl_BE"),  # a choice, written in the campus's territory
    ("molenbeek", {}, "en", "en_BE"),
    ("molenbeek", {}, "it", "it"),  # Babel has no it_BE: plain Italian
    ("molenbeek", {}, "ar", "fr_BE"),  # Arabic is not offered in Belgium
    ("hq", {"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"}, None, "fr_BE"),
    ("hq", {"Accept-Language": "de-DE,nl;q=0.8"}, None, "nl"),  # first offered language
    ("hq", {"Accept-Language": "ar-MA"}, None, "en"),
    ("hq", {}, None, "en"),
    ("hq", {"Accept-Language": "fr-BE"}, "it", "it"),  # the choice beats the browser
    ("partners", {"Accept-Language": "nl-NL"}, None, "nl_NL"),
    (None, {"Accept-Language": "it-IT,it"}, None, "it_IT"),  # the public apex
])
def test_locale_is_choice_then_campus_default_then_browser(app, db_session, base, host,
                                                           headers, chosen, expected):
    full_host = f"{host}.{DOMAIN}" if host else DOMAIN
    assert request_locale(app, full_host, headers, chosen) == expected


def test_casablanca_public_pages_may_speak_arabic_in_moroccan_territory(app, db_session, base):
    add_casablanca(app)
    host = f"casablanca.{DOMAIN}"
    assert request_locale(app, host) == "fr_MA"
    assert request_locale(app, host, chosen="ar") == "ar_MA"
    assert request_locale(app, host, chosen="ar", path="/apply") == "ar_MA"
    assert request_locale(app, host, chosen="ar", path="/no-such-page") == "ar_MA"  # its 404
    # The sign-in page is the door to the signed-in site, not a public page.
    assert request_locale(app, host, chosen="ar", path="/login") == "fr_MA"
    # A page for staff (anonymous: redirected to sign in) never speaks Arabic.
    assert request_locale(app, host, chosen="ar", path="/learners") == "fr_MA"


# --- each campus in its own language -------------------------------------------------------

def test_molenbeek_page_speaks_french_with_belgian_money(app, site, base):
    price_base_cohort(app, base, "molenbeek", 123456)
    body = text(site("molenbeek").get("/"))
    assert re.search(r'\blang="fr-BE"', html_tag(body))
    assert "Cohortes ouvertes aux candidatures" in body
    assert "Cohorts open for applications" not in body
    assert format_money(123456, "EUR", "fr_BE") in body  # "1 234,56 €"
    assert format_money(123456, "EUR", "fr_BE") != format_money(123456, "EUR", "en")


def test_antwerp_page_speaks_dutch_with_belgian_money(app, site, base, compiled):
    price_base_cohort(app, base, "antwerp", 123456)
    body = text(site("antwerp").get("/"))
    assert re.search(r'\blang="nl-BE"', html_tag(body))
    dutch = gettext_in(compiled, "nl", "Cohorts open for applications")
    assert dutch != "Cohorts open for applications" and shown(dutch) in body
    assert format_money(123456, "EUR", "nl_BE") in body  # "€ 1.234,56"


def test_padua_page_speaks_italian_with_italian_money(app, site, base, compiled):
    padua = add_padua(app)
    open_cohort(app, padua, base.catalogue["course"][0], 123456, "EUR")
    body = text(site("padua").get("/"))
    assert re.search(r'\blang="it-IT"', html_tag(body))
    italian = gettext_in(compiled, "it", "Cohorts open for applications")
    assert italian != "Cohorts open for applications" and shown(italian) in body
    assert format_money(123456, "EUR", "it_IT") in body  # "1.234,56 €"


# --- the switcher --------------------------------------------------------------------------

def test_chosen_language_beats_the_campus_default(site, base):
    molenbeek = site("molenbeek")
    response = choose(molenbeek, "en", "/apply")
    assert response.status_code == 302
    assert response.headers["Location"] == "/apply"
    body = text(molenbeek.get("/"))
    assert "Cohorts open for applications" in body
    assert re.search(r'\blang="en-BE"', html_tag(body))
    assert "Language changed: English." in body  # flashed in the new language
    choose(molenbeek, "fr")
    assert "Cohortes ouvertes aux candidatures" in text(molenbeek.get("/"))


def test_signed_in_choice_is_saved_for_the_next_sessions(app, site, base):
    assert "locale" in User.__table__.c, (
        "users.locale is missing: the choice of a signed-in user cannot be saved (see the "
        "migration in H1's report)")
    first = site("molenbeek")
    assert first.sign_in(manager("molenbeek")).status_code == 302
    assert choose(first, "en").status_code == 302
    later = site("molenbeek")  # another browser, a new session
    assert later.sign_in(manager("molenbeek")).status_code == 302
    assert "Sign out" in text(later.get("/"))
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == manager("molenbeek")))
        assert user.locale == "en"


@pytest.mark.parametrize(("next_path", "expected"), [
    ("/events?page=2", "/events?page=2"),
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("", "/"),
])
def test_switcher_only_goes_back_to_a_path_of_this_site(site, base, next_path, expected):
    response = choose(site("molenbeek"), "nl", next_path)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("locale", ["ar", "de", "", "fr'><script>"])
def test_switcher_refuses_a_language_not_offered_here_and_changes_nothing(site, base, locale):
    molenbeek = site("molenbeek")
    response = choose(molenbeek, locale)
    assert response.status_code == 422
    assert "Cette langue n'est pas proposée ici." in text(response).replace("&#39;", "'")
    with molenbeek.client.session_transaction(base_url=molenbeek.base_url) as stored:
        assert "locale" not in stored
    assert "Cohortes ouvertes aux candidatures" in text(molenbeek.get("/"))


@pytest.mark.parametrize(("headers", "status"), [
    ({"Origin": "https://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Origin": "http://antwerp.localhost:5000"}, 403),  # another campus is another site
    ({"Origin": "http://molenbeek.localhost:5000", "Sec-Fetch-Site": "same-origin"}, 302),
])
def test_switcher_refuses_a_post_from_another_site(site, base, headers, status):
    molenbeek = site("molenbeek")
    response = molenbeek.post("/language", data={"locale": "nl", "next": "/"}, headers=headers)
    assert response.status_code == status
    with molenbeek.client.session_transaction(base_url=molenbeek.base_url) as stored:
        assert stored.get("locale") == ("nl" if status == 302 else None)


def render_switcher(app, host: str, chosen: str | None = None, path: str = "/") -> str:
    with app.test_request_context(path, base_url=f"http://{host}"):
        if chosen:
            session["locale"] = chosen
        app.preprocess_request()
        return render_template("_language.html")


def test_switcher_lists_the_languages_offered_in_their_own_names(app, db_session, base):
    html = render_switcher(app, f"molenbeek.{DOMAIN}", path="/events?page=2")
    buttons = re.findall(r"<button[^>]*>[^<]*</button>", html)
    assert [re.search(r">([^<]*)<", b).group(1) for b in buttons] == [
        "English", "Français", "Nederlands", "Italiano"]
    assert [re.search(r'lang="(\w+)"', b).group(1) for b in buttons] == ["en", "fr", "nl", "it"]
    assert [b for b in buttons if 'aria-current="true"' in b] == [buttons[1]]  # Français
    assert 'action="/language"' in html
    assert "csrf_token" not in html  # no session opened for a visitor (the route checks Origin)
    assert 'name="next" value="/events?page=2"' in html
    assert "العربية" not in html


# --- Arabic, only on Casablanca's public pages ---------------------------------------------

def test_casablanca_switcher_offers_arabic_and_writes_right_to_left(app, db_session, base):
    add_casablanca(app)
    host = f"casablanca.{DOMAIN}"
    html = render_switcher(app, host)
    arabic = re.search(r"<button[^>]*>العربية</button>", html)
    assert arabic and 'lang="ar"' in arabic.group(0) and 'dir="rtl"' in arabic.group(0)
    assert "aria-current" not in arabic.group(0)
    chosen = render_switcher(app, host, chosen="ar")
    assert 'aria-current="true"' in re.search(r"<button[^>]*>العربية</button>",
                                              chosen).group(0)
    assert "العربية" not in render_switcher(app, host, chosen="ar", path="/login")
    with app.test_request_context("/", base_url=f"http://{host}"):
        session["locale"] = "ar"
        app.preprocess_request()
        assert render_template_string("{{ text_direction() }} {{ current_language() }}") == (
            "rtl ar")
    with app.test_request_context("/", base_url=f"http://{host}"):
        app.preprocess_request()
        assert render_template_string("{{ text_direction() }} {{ current_language() }}") == (
            "ltr fr")


def test_casablanca_public_page_in_arabic_is_right_to_left(app, site, base):
    add_casablanca(app)
    casablanca = site("casablanca")
    first = text(casablanca.get("/"))
    assert "Cohortes ouvertes aux candidatures" in first  # the campus's default, French
    assert "العربية" in first and 'dir="rtl"' not in html_tag(first)
    assert choose(casablanca, "ar").status_code == 302
    body = text(casablanca.get("/"))
    assert re.search(r'\blang="ar-MA"', html_tag(body))
    assert re.search(r'\bdir="rtl"', html_tag(body))
    assert "الدفعات المفتوحة للتقديم" in body  # Cohorts open for applications
    assert "لا توجد حاليًا أي دفعة مفتوحة للتقديم" in body  # its empty state
    apply = text(casablanca.get("/apply"))
    assert re.search(r'\bdir="rtl"', html_tag(apply))


def test_an_arabic_browser_gets_the_campus_default_until_it_chooses(app, site, base):
    add_casablanca(app)
    body = text(site("casablanca").get("/", headers={"Accept-Language": "ar-MA,ar;q=0.9"}))
    assert "Cohortes ouvertes aux candidatures" in body  # choice > campus > browser
    assert 'lang="ar"' in body  # the switcher offers it, in its own name


def test_arabic_is_not_offered_on_casablanca_signed_in_pages(app, site, base):
    add_casablanca(app)
    casablanca = site("casablanca")
    assert choose(casablanca, "ar").status_code == 302
    assert "الدفعات المفتوحة للتقديم" in text(casablanca.get("/"))
    login = text(casablanca.get("/login"))
    assert re.search(r'\bdir="ltr"', html_tag(login)) or 'dir="rtl"' not in html_tag(login)
    assert "Se connecter" in login and "العربية" not in login
    assert casablanca.sign_in(CASABLANCA_MANAGER).status_code == 302
    with casablanca.client.session_transaction(base_url=casablanca.base_url) as stored:
        stored["locale"] = "ar"  # as if the choice had outlived the sign-in
    dashboard = text(casablanca.get("/"))
    assert 'dir="rtl"' not in html_tag(dashboard) and re.search(r'\blang="fr-MA"',
                                                                html_tag(dashboard))
    assert "العربية" not in dashboard
    assert choose(casablanca, "ar").status_code == 422


def test_arabic_is_not_offered_on_molenbeek(app, site, base):
    molenbeek = site("molenbeek")
    assert "العربية" not in text(molenbeek.get("/"))
    assert choose(molenbeek, "ar").status_code == 422
    body = text(molenbeek.get("/", headers={"Accept-Language": "ar"}))
    assert 'dir="rtl"' not in html_tag(body) and "Cohortes ouvertes aux candidatures" in body


# --- course texts ----------------------------------------------------------------------------

def test_course_title_follows_the_language_with_english_fallback(app, site, base):
    # CYB-101 has an English and a French title only.
    add_casablanca(app)
    add_padua(app)
    assert "Analyste en cybersécurité" in text(site("molenbeek").get("/catalogue"))
    assert "Cybersecurity analyst" in text(site("padua").get("/catalogue"))  # no Italian title
    molenbeek = site("molenbeek")
    choose(molenbeek, "nl")
    page = text(molenbeek.get("/catalogue"))
    assert "Cybersecurity analyst" in page and "Analyste en cybersécurité" not in page
    casablanca = site("casablanca")
    assert "Analyste en cybersécurité" in text(casablanca.get("/catalogue"))
    choose(casablanca, "ar")
    assert "Cybersecurity analyst" in text(casablanca.get("/catalogue"))


# --- invoice PDFs --------------------------------------------------------------------------

def pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(raw.replace("\u202f", " ").replace("\xa0", " ").split())


def plain(value: str) -> str:
    return " ".join(value.replace("\u202f", " ").replace("\xa0", " ").split())


def test_invoice_pdf_is_written_in_the_readers_language_and_locale(site, base, compiled):
    number = INVOICES["molenbeek"]
    molenbeek = site("molenbeek")
    assert molenbeek.sign_in(manager("molenbeek")).status_code == 302
    french = pdf_text(molenbeek.get(f"/invoices/{number}.pdf"))
    assert f"Facture {number}" in french
    assert plain(f"Total {format_money(100000, 'EUR', 'fr_BE')}") in french  # 1 000,00 €
    assert "2 novembre 2026" in french
    choose(molenbeek, "en")
    english = pdf_text(molenbeek.get(f"/invoices/{number}.pdf"))
    assert f"Invoice {number}" in english and "2 November 2026" in english
    assert plain(f"Total {format_money(100000, 'EUR', 'en_BE')}") in english
    portal = site("partners")
    assert portal.sign_in(PARTNER_CONTACT).status_code == 302
    dutch = pdf_text(portal.get(f"/invoices/{number}.pdf", headers={"Accept-Language": "nl"}))
    assert f"{gettext_in(compiled, 'nl', 'Invoice')} {number}" in dutch
    assert "2 november 2026" in dutch
    assert plain(f"Total {format_money(100000, 'EUR', 'nl_BE')}") in dutch or (
        plain(format_money(100000, "EUR", "nl_BE")) in dutch)


def test_invoice_pdf_outside_a_request_is_in_the_issuers_locale(app, db_session, base):
    from billing.invoices.pdf import document_locale
    from billing.invoices.services import get_invoice

    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        invoice = get_invoice(INVOICES["molenbeek"])
        assert document_locale(invoice) == "fr_BE"


# --- the catalogues ------------------------------------------------------------------------

def catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po)


def template_ids() -> set[str]:
    with open(TRANSLATIONS / "messages.pot", "rb") as pot:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(pot) if message.id}


@pytest.mark.parametrize("language", ["fr", "nl", "it"])
def test_every_message_is_translated_in_french_dutch_and_italian(language):
    messages = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalogue(language)
                if m.id}
    missing = sorted(
        msgid for msgid in template_ids()
        if msgid not in messages or "fuzzy" in messages[msgid].flags
        or not all(messages[msgid].string if isinstance(messages[msgid].string, tuple)
                   else [messages[msgid].string]))
    assert not missing, f"{len(missing)} untranslated in {language}: {missing[:10]}"


@pytest.mark.parametrize("language", ["fr", "nl", "it", "ar"])
def test_translations_keep_the_placeholders_of_their_message(language):
    problems = []
    for message in catalogue(language):
        if not message.id or "fuzzy" in message.flags:  # fuzzy entries are never compiled
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in filter(None, strings):
            found = set(PLACEHOLDER.findall(string))
            # A plural's singular form may leave out the count (“un jour”).
            if found != expected and not (len(ids) > 1 and found <= expected):
                problems.append((ids[0], string))
    assert not problems, f"{language}: {problems[:10]}"


def test_casablanca_public_page_strings_are_translated_into_arabic():
    method_of = {".html": "jinja2.ext:babel_extract", ".py": "python"}
    wanted = set()
    for pattern in ARABIC_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for _line, msgid, _comments, _context in extract_from_file(
                    method_of[path.suffix], str(path), keywords={"_": None, "_l": None,
                                                                 "gettext": None,
                                                                 "lazy_gettext": None}):
                wanted.add(msgid if isinstance(msgid, str) else msgid[0])
    assert len(wanted) > 60
    arabic = {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in catalogue("ar")
              if m.id}
    missing = sorted(msgid for msgid in wanted if not arabic.get(msgid))
    assert not missing, f"{len(missing)} public strings without Arabic: {missing[:10]}"


def test_a_refused_transition_names_the_state_in_the_readers_language(site, base, compiled):
    # Issuing an invoice that is already issued: the state is the campus's word for it, not the
    # stored value ("issued") in a French sentence.
    number = INVOICES["molenbeek"]
    molenbeek = site("molenbeek")
    token = molenbeek.token(manager("molenbeek"))
    response = molenbeek.post(f"/api/v1/invoices/{number}/issue",
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409
    message = response.get_json()["error"]["message"]
    issued = gettext_in(compiled, "fr", "Issued").lower()
    assert issued != "issued" and f"statut {issued}" in message
