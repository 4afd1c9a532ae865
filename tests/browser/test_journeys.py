"""What people do on the demo, in a real browser: an applicant applies in French, the manager
admits them and records a certification, HQ exports the consolidated figures, the Microsoft
contact downloads an invoice PDF, and the Casablanca public page reads right to left.

Each journey saves full-page screenshots in tests/browser/screenshots/ and asserts what the
person would check: the text in their language, the flash message, the row that appeared, the
file they downloaded.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.browser.support import IN_CI

if not IN_CI:  # in CI a missing playwright is an import error: a failure, never a skip
    pytest.importorskip("playwright", reason="no playwright: pip install -e '.[test]'")

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.support import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    choose_language,
    gettext,
    page_language,
    screenshot,
    sign_in,
    translated,
)

pytestmark = pytest.mark.browser

MANAGER = "manager@molenbeek.campusflow.test"
HQ = "hq@campusflow.test"
MICROSOFT = "contact@microsoft.campusflow.test"


@dataclass(frozen=True)
class Applicant:
    name: str
    email: str
    cohort_id: int
    course: str


# --- a. an applicant applies in French on the Molenbeek site -----------------------------------


def apply_in_french(new_context, server) -> Applicant:
    # The browser asks for English: Molenbeek's default language (fr_BE) comes first all the
    # same (issue 8: the user's choice, else the campus's default, else the browser).
    page = new_context(locale="en-US").new_page()
    page.goto(server.url("molenbeek"))
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^fr\b"))

    page.locator('main a[href^="/apply/"]').first.click()
    expect(page).to_have_url(re.compile(r"/apply/\d+$"))
    cohort_id = int(re.search(r"/apply/(\d+)$", page.url).group(1))
    expect(page.locator('label[for="full_name"]')).to_have_text(translated("fr", "Full name"))
    expect(page.locator('label[for="motivation"]')).to_have_text(
        translated("fr", "Why do you want to join this training?"))
    submit = page.locator("main form button[type=submit]")
    expect(submit).to_have_text(translated("fr", "Send my application"))
    course = page.locator("main h1").inner_text().split(":", 1)[-1].strip()

    suffix = secrets.token_hex(3)
    applicant = Applicant(name=f"Camille Navigateur {suffix.upper()}",
                          email=f"camille.navigateur.{suffix}@example.org",
                          cohort_id=cohort_id, course=course)
    page.locator("#full_name").fill(applicant.name)
    page.locator("#email").fill(applicant.email)
    page.locator("#phone").fill("+32 470 12 34 56")
    page.locator("#motivation").fill(
        "Je veux apprendre un métier du numérique et travailler à Bruxelles.")
    page.locator("#consent").check()
    screenshot(page, "a-apply-form-fr")
    submit.click()

    expect(page).to_have_url(re.compile(rf"/apply/{cohort_id}/received$"))
    expect(page.locator("main h1")).to_have_text(translated("fr", "Thank you!"))
    expect(page.locator("main [role=status]")).to_have_text(translated(
        "fr", "We received your application. The campus team will contact you by e-mail."))
    expect(page.locator("main")).to_contain_text(course)
    screenshot(page, "a-apply-received-fr")
    return applicant


_APPLICANTS: list[Applicant] = []


@pytest.fixture
def french_application(new_context, server) -> Applicant:
    """The application journey (a) sent, once per server: journey (b) picks it up."""
    if not _APPLICANTS:
        _APPLICANTS.append(apply_in_french(new_context, server))
    return _APPLICANTS[0]


def test_an_applicant_applies_in_french_on_the_molenbeek_site(new_context, server):
    _APPLICANTS[:] = [apply_in_french(new_context, server)]


# --- b. the manager admits them and records a certification ----------------------------------


def test_the_manager_admits_the_applicant_and_records_a_certification(
        new_context, server, french_application):
    applicant = french_application
    page = new_context().new_page()
    sign_in(page, server.url("molenbeek", "/login"), MANAGER)
    flash = page.locator("main [role=status]")

    page.locator('header nav a[href="/applications"]').click()
    cohort_filter = page.locator("select[name=cohort_id]")
    cohort_filter.select_option(str(applicant.cohort_id))
    page.locator("main form").filter(has=cohort_filter).locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"cohort_id={applicant.cohort_id}"))
    page.get_by_role("link", name=applicant.name, exact=True).click()

    lang = page_language(page)
    expect(page.locator("main h1")).to_contain_text(applicant.name)
    expect(page.locator("main h1")).to_contain_text(gettext(lang, "Submitted"))
    page.locator("#decision").select_option("admit")
    page.locator('form[action$="/decision"] button[type=submit]').click()
    expect(flash).to_have_text(gettext(lang, "Decision recorded."))
    expect(page.locator("main h1")).to_contain_text(gettext(lang, "Admitted"))
    screenshot(page, "b-application-admitted")

    page.locator('header nav a[href="/learners"]').click()
    page.locator("#q").fill(applicant.name)
    page.locator("main form[role=search] button[type=submit]").click()
    row = page.locator("main table tbody tr").filter(
        has=page.get_by_role("link", name=applicant.name, exact=True))
    expect(row).to_have_count(1)
    row.locator('a[href$="/record"]').click()

    expect(page.locator("main h1")).to_contain_text(applicant.name)
    enrolments = page.locator("main section").filter(
        has=page.locator("#enrolments-heading")).locator("table tbody tr")
    expect(enrolments).to_have_count(1)
    expect(enrolments).to_contain_text(applicant.course)
    certifications = page.locator("#award-certification_id")
    choice = certifications.locator("option:not([disabled]):not([value=''])").first
    certification_id = choice.get_attribute("value")
    exam_code = choice.inner_text().split("·")[0].strip()
    certifications.select_option(certification_id)
    page.locator('form[action$="/record/certifications"] button[type=submit]').click()

    expect(flash).to_have_text(
        gettext(lang, "Certification recorded for %(name)s.", name=applicant.name))
    awards = page.locator("main section").filter(
        has=page.locator("#certifications-heading")).locator("table tbody tr")
    expect(awards).to_have_count(1)
    expect(awards.first).to_contain_text(exam_code)
    # Held now: the form no longer offers it.
    expect(certifications.locator(f'option[value="{certification_id}"]')).to_be_disabled()
    screenshot(page, "b-certification-recorded")


# --- c. HQ opens the consolidated figures and exports CSV -------------------------------------


def _column(header: list[str], word: str) -> int:
    matches = [i for i, name in enumerate(header) if word in name.lower()]
    assert matches, f"no {word!r} column in the CSV header {header}"
    return matches[0]


def test_hq_opens_the_consolidated_figures_and_exports_them_as_csv(new_context, server):
    page = new_context(accept_downloads=True).new_page()
    sign_in(page, server.url("hq", "/login"), HQ)

    page.locator('header nav a[href="/reports/revenue"]').click()
    expect(page).to_have_url(re.compile(r"/reports/revenue"))
    total = page.locator("#network-total")
    expect(total).to_have_text(re.compile(r"\d"))
    total_minor = int(re.sub(r"\D", "", total.inner_text()))
    screenshot(page, "c-consolidated-revenue")

    with page.expect_download() as download:
        page.locator('main a[href*="csv"]').first.click()
    assert download.value.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(
        download.value.path().read_text(encoding="utf-8-sig"))))
    header, body = rows[0], rows[1:]
    campus, amount = _column(header, "campus"), _column(header, "amount")
    assert len(header) >= 4
    campuses = {row[campus].lower() for row in body}
    assert {"molenbeek", "antwerp", "padua", "casablanca"} <= campuses, campuses
    # The export is the report on screen: its amounts add up to the network total shown.
    assert sum(Decimal(row[amount]) for row in body) * 100 == total_minor


# --- d. the Microsoft contact downloads an invoice PDF ---------------------------------------


@pytest.fixture
def pdf_downloading_context(playwright, tmp_path):
    """A browser whose profile says "download PDFs" (Chromium's own setting): headless
    Chromium would otherwise show an inline PDF in its viewer, and no download happens."""
    profile = tmp_path / "chromium-profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"plugins": {"always_open_pdf_externally": True}}))
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, accept_downloads=True,
        viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context
    context.close()


def test_the_microsoft_contact_downloads_an_invoice_pdf(pdf_downloading_context, server):
    page = pdf_downloading_context.new_page()
    sign_in(page, server.url("partners", "/login"), MICROSOFT)
    expect(page.locator("main h1")).to_have_text("Microsoft")

    page.locator('header nav a[href="/invoices"]').click()
    page.locator('main table tbody tr a[href^="/invoices/"]:not([href$=".pdf"])').first.click()
    heading = page.locator("main h1")
    expect(heading).to_have_text(re.compile(r"[A-Z]{3}-\d{4}-\d{4}"))
    number = re.search(r"[A-Z]{3}-\d{4}-\d{4}", heading.inner_text()).group(0)
    screenshot(page, "d-partner-invoice")

    with page.expect_download() as download:
        page.locator('main a[href$=".pdf"]').first.click()
    assert download.value.suggested_filename == f"{number}.pdf"
    body = download.value.path().read_bytes()
    assert body.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert number in text


# --- e. the Casablanca public page in Arabic, right to left -----------------------------------


def test_the_casablanca_public_page_in_arabic_reads_right_to_left(new_context, server):
    page = new_context(locale="ar").new_page()
    page.goto(server.url("casablanca"))
    choose_language(page, "ar")

    html = page.locator("html")
    expect(html).to_have_attribute("lang", re.compile(r"^ar\b"))
    expect(html).to_have_attribute("dir", "rtl")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    heading = page.locator("main h1")
    expect(heading).to_be_visible()
    assert heading.evaluate("element => getComputedStyle(element).direction") == "rtl"
    # Mirrored layout: the site's name, first in the header, sits on the right-hand side.
    brand = page.locator("header .brand").bounding_box()
    assert brand["x"] + brand["width"] / 2 > 1280 / 2, brand
    screenshot(page, "e-casablanca-arabic")

    # The choice holds on the next page.
    page.goto(server.url("casablanca", "/apply"))
    expect(html).to_have_attribute("lang", re.compile(r"^ar\b"))
    expect(html).to_have_attribute("dir", "rtl")
