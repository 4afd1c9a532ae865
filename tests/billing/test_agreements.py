"""Partner agreements on `hq.`: the JSON API, the HQ pages (list, form, detail with invoices and
progress) and the invoice run page. HQ only; every refusal changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from billing.agreements.models import Agreement
from billing.invoices.models import Invoice
from core.extensions import db
from tenants.campuses.services import create_campus
from tenants.scoping import all_campuses
from tests.billing.test_invoice_runs import NEXT, add_agreement, build_programme, invoice_rows
from tests.support.data import HQ, INVOICES, MARKERS, PARTNER_CONTACT, manager
from tests.support.queries import count_queries

BODY = {
    "title": "Google cloud programme", "partner": "google", "track": "cybersecurity",
    "campuses": ["molenbeek", "antwerp"], "currency": "EUR", "starts_on": "2026-09-01",
    "ends_on": "2027-06-30", "fixed_fee_minor": 600000, "instalments": 6,
    "per_admitted_minor": 5000, "per_completion_minor": 15000, "per_certified_minor": 25000,
    "trained_target": 40, "certified_target": 20,
}
FORM = {
    "title": "Google cloud programme", "partner": "google", "track": "cybersecurity",
    "campuses": ["molenbeek", "antwerp"], "currency": "EUR", "starts_on": "2026-09-01",
    "ends_on": "2027-06-30", "fixed_fee": "6 000,00", "instalments": "6",
    "per_admitted": "50", "per_completion": "150.00", "per_certified": "250",
    "trained_target": "40", "certified_target": "",
}


def bearer(site, email: str = HQ) -> dict:
    return {"Authorization": f"Bearer {site.token(email)}"}


@pytest.fixture
def hq(site):
    hq = site("hq")
    assert hq.sign_in(HQ).status_code == 302
    return hq


@pytest.fixture
def api(site):
    hq = site("hq")
    return hq, bearer(hq)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def agreements(app) -> list[tuple]:
    """Every agreement as stored, with its campus slugs."""
    with app.app_context():
        return [(a.id, a.title, a.partner_id, a.track_id, a.currency, a.starts_on, a.ends_on,
                 a.fixed_fee_minor, a.instalments, a.per_admitted_minor, a.per_completion_minor,
                 a.per_certified_minor, a.trained_target, a.certified_target,
                 tuple(c.slug for c in a.campuses))
                for a in db.session.scalars(select(Agreement).order_by(Agreement.id))]


def add_casablanca(app) -> None:
    with app.app_context():
        create_campus(slug="casablanca", name="Casablanca", city="Casablanca", country="MA",
                      currency="MAD", timezone="Africa/Casablanca", locale="fr_MA",
                      status="open")
        db.session.commit()


# --- API ------------------------------------------------------------------------------------


def test_api_lists_agreements_with_slugs_and_terms(api, base):
    hq, headers = api
    response = hq.get("/api/v1/agreements", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1 and body["page"] == 1
    item = body["items"][0]
    assert item["id"] == base.catalogue["agreement"][0]
    assert item["partner"] == "microsoft" and item["track"] == "cybersecurity"
    assert item["campuses"] == ["antwerp", "molenbeek"]  # by campus name
    assert (item["fixed_fee_minor"], item["instalments"], item["per_certified_minor"]) == (
        1200000, 12, 50000)
    assert (item["starts_on"], item["ends_on"]) == ("2026-01-01", "2027-12-31")


def test_api_filters_by_search_partner_and_running_today(api, app, base):
    hq, headers = api
    add_agreement(app, base, title="Old Google deal", partner_id=base.other_partner_id,
                  starts_on=date(2024, 1, 1), ends_on=date(2024, 12, 31))

    def titles(query: str) -> list[str]:
        response = hq.get(f"/api/v1/agreements?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [item["title"] for item in response.get_json()["items"]]

    assert titles("q=google") == ["Old Google deal"]
    assert titles("q=MICROSOFT") == ["Microsoft cybersecurity programme"]  # partner's name
    assert titles("partner=google") == ["Old Google deal"]
    assert titles("active=true") == ["Microsoft cybersecurity programme"]
    assert titles("active=false") == ["Old Google deal"]
    assert titles("q=%25") == []  # a wildcard is text
    assert titles("per_page=1&page=2") == ["Old Google deal"]
    assert hq.get("/api/v1/agreements?active=maybe", headers=headers).status_code == 422


def test_api_creates_an_agreement(api, app, base):
    hq, headers = api
    response = hq.post("/api/v1/agreements", json=BODY, headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["partner"] == "google" and created["campuses"] == ["antwerp", "molenbeek"]
    stored = agreements(app)[-1]
    assert stored[1:] == ("Google cloud programme", base.other_partner_id,
                          base.catalogue["track"][0], "EUR", date(2026, 9, 1),
                          date(2027, 6, 30), 600000, 6, 5000, 15000, 25000, 40, 20,
                          ("antwerp", "molenbeek"))
    shown = hq.get(f"/api/v1/agreements/{created['id']}", headers=headers)
    assert shown.status_code == 200 and shown.get_json() == created


@pytest.mark.parametrize(("change", "field"), [
    ({"title": "  "}, "title"),
    ({"partner": "nobody"}, "partner"),
    ({"track": "nothing"}, "track"),
    ({"campuses": []}, "campuses"),
    ({"campuses": ["molenbeek", "atlantis"]}, "campuses"),
    ({"currency": "eu"}, "currency"),
    ({"currency": "USD"}, "campuses"),  # Molenbeek and Antwerp invoice in EUR
    ({"ends_on": "2026-08-31"}, "ends_on"),
    ({"instalments": 11}, "instalments"),  # September to June: 10 months
    ({"instalments": 0}, "instalments"),
    ({"fixed_fee_minor": -1}, "fixed_fee_minor"),
    ({"per_admitted_minor": 12.5}, "per_admitted_minor"),
    ({"per_completion_minor": "100"}, "per_completion_minor"),
    ({"trained_target": -3}, "trained_target"),
    ({"starts_on": "tomorrow"}, "starts_on"),
])
def test_api_refuses_bad_input_with_422_and_creates_nothing(api, app, base, change, field):
    hq, headers = api
    before = agreements(app)
    response = hq.post("/api/v1/agreements", json=BODY | change, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert agreements(app) == before


def test_api_refuses_a_campus_in_another_currency_naming_it(api, app, base):
    add_casablanca(app)
    hq, headers = api
    before = agreements(app)
    response = hq.post("/api/v1/agreements", json=BODY | {"campuses": ["molenbeek", "casablanca"]},
                       headers=headers)
    assert response.status_code == 422
    assert "Casablanca (MAD)" in response.get_json()["error"]["fields"]["campuses"][0]
    assert agreements(app) == before
    mad = hq.post("/api/v1/agreements", json=BODY | {"campuses": ["casablanca"],
                                                     "currency": "MAD"}, headers=headers)
    assert mad.status_code == 201, mad.get_json()


def test_api_changes_terms_without_touching_issued_invoices(api, app, base):
    hq, headers = api
    agreement_id = base.catalogue["agreement"][0]
    with app.app_context(), all_campuses(db.session):
        before = {i.number: (i.total_minor, i.subtotal_minor)
                  for i in db.session.scalars(select(Invoice))}
    response = hq.patch(f"/api/v1/agreements/{agreement_id}", headers=headers,
                        json={"fixed_fee_minor": 2400000, "per_admitted_minor": 20000,
                              "campuses": ["molenbeek"], "track": None})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["fixed_fee_minor"], body["campuses"], body["track"]) == (
        2400000, ["molenbeek"], None)
    assert body["title"] == "Microsoft cybersecurity programme"  # not sent: kept
    with app.app_context(), all_campuses(db.session):
        after = {i.number: (i.total_minor, i.subtotal_minor)
                 for i in db.session.scalars(select(Invoice))}
    assert after == before and INVOICES["molenbeek"] in after


def test_api_keeps_partner_and_currency_of_an_agreement_with_invoices(api, app, base):
    hq, headers = api
    agreement_id = base.catalogue["agreement"][0]  # the base invoices were issued under it
    before = agreements(app)
    response = hq.patch(f"/api/v1/agreements/{agreement_id}", json={"partner": "google"},
                        headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "agreement_invoiced"
    assert agreements(app) == before
    # Without invoices the partner may change.
    fresh = add_agreement(app, base)
    moved = hq.patch(f"/api/v1/agreements/{fresh}", json={"partner": "google"}, headers=headers)
    assert moved.status_code == 200 and moved.get_json()["partner"] == "google"


def test_api_patch_checks_dates_against_the_stored_ones(api, app, base):
    hq, headers = api
    agreement_id = base.catalogue["agreement"][0]
    before = agreements(app)
    response = hq.patch(f"/api/v1/agreements/{agreement_id}", json={"ends_on": "2025-12-31"},
                        headers=headers)
    assert response.status_code == 422
    assert "ends_on" in response.get_json()["error"]["fields"]
    assert agreements(app) == before


def test_api_unknown_agreement_is_404(api):
    hq, headers = api
    assert hq.get("/api/v1/agreements/999999", headers=headers).status_code == 404
    missing = hq.patch("/api/v1/agreements/999999", json={"title": "x"}, headers=headers)
    assert missing.status_code == 404


def test_api_is_refused_to_everyone_but_hq(site, app, base):
    before = agreements(app)
    molenbeek = site("molenbeek")
    headers = bearer(molenbeek, manager("molenbeek"))
    assert molenbeek.get("/api/v1/agreements", headers=headers).status_code == 404
    assert molenbeek.post("/api/v1/agreements", json=BODY, headers=headers).status_code == 404
    partners = site("partners")
    partner = bearer(partners, PARTNER_CONTACT)
    assert partners.get("/api/v1/agreements", headers=partner).status_code == 404
    assert site("hq").get("/api/v1/agreements").status_code == 401
    assert site("hq").post("/api/v1/agreements", json=BODY).status_code == 401
    assert agreements(app) == before


def test_api_list_runs_a_fixed_number_of_queries(api, app, base):
    hq, headers = api

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert hq.get("/api/v1/agreements?per_page=50", headers=headers).status_code == 200
        return len(statements)

    for n in range(3):
        add_agreement(app, base, title=f"Deal {n}")
    small = measure()
    for n in range(5):
        add_agreement(app, base, title=f"More {n}", track_id=None,
                      campuses=("molenbeek",) if n % 2 else ("antwerp", "molenbeek"))
    assert measure() == small


# --- HQ pages ---------------------------------------------------------------------------------


def test_hq_lists_agreements_with_search_filters_and_an_empty_state(hq, app, base):
    page = text_of(hq.get("/agreements"))
    assert "Microsoft cybersecurity programme" in page and "Antwerp, Molenbeek" in page
    assert "running" in page
    assert "€12,000.00" in page or "12,000.00" in page
    filtered = text_of(hq.get("/agreements?partner=google"))
    assert "No agreement matches these filters." in filtered
    searched = text_of(hq.get("/agreements?q=cyber&active=yes"))
    assert "Microsoft cybersecurity programme" in searched
    bad = hq.get("/agreements?active=perhaps&page=x")
    assert bad.status_code == 200  # a malformed filter is dropped


def test_hq_list_page_runs_a_fixed_number_of_queries(hq, app, base):
    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert hq.get("/agreements").status_code == 200
        return len(statements)

    add_agreement(app, base, title="Deal 0")
    small = measure()
    for n in range(5):
        add_agreement(app, base, title=f"Deal {n + 1}", campuses=("molenbeek",))
    assert measure() == small


def test_hq_creates_an_agreement_from_the_form(hq, app, base):
    form_page = text_of(hq.get("/agreements/new"))
    assert 'name="campuses"' in form_page and 'type="checkbox"' in form_page
    assert 'name="csrf_token"' in form_page
    response = hq.post("/agreements/new", data=FORM)
    assert response.status_code == 302, text_of(response)
    stored = agreements(app)[-1]
    assert stored[1:] == ("Google cloud programme", base.other_partner_id,
                          base.catalogue["track"][0], "EUR", date(2026, 9, 1),
                          date(2027, 6, 30), 600000, 6, 5000, 15000, 25000, 40, None,
                          ("antwerp", "molenbeek"))
    detail = hq.get(response.headers["Location"])
    assert "Saved the agreement “Google cloud programme”." in text_of(detail)


def test_hq_form_refuses_bad_input_keeping_what_was_typed(hq, app, base):
    add_casablanca(app)
    before = agreements(app)
    response = hq.post("/agreements/new", data=FORM | {
        "campuses": ["molenbeek", "casablanca"], "fixed_fee": "12,345"})
    assert response.status_code == 422
    page = text_of(response)
    # The amount is ambiguous (1,2345 or 12 345?): refused before the campuses are looked at.
    assert 'id="fixed_fee-error"' in page and 'aria-invalid="true"' in page
    assert 'value="Google cloud programme"' in page
    assert agreements(app) == before
    response = hq.post("/agreements/new", data=FORM | {"campuses": ["molenbeek", "casablanca"]})
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="campuses-error"' in page and "Casablanca (MAD)" in page
    assert 'id="campus-casablanca" name="campuses" type="checkbox" value="casablanca" checked' \
        in page
    assert agreements(app) == before
    empty = hq.post("/agreements/new", data={"title": ""})
    assert empty.status_code == 422 and 'id="title-error"' in text_of(empty)
    assert agreements(app) == before


def test_hq_edits_an_agreement_and_its_invoices_stay(hq, app, base):
    agreement_id = base.catalogue["agreement"][0]
    form = text_of(hq.get(f"/agreements/{agreement_id}/edit"))
    assert 'value="12000.00"' in form and 'value="Microsoft cybersecurity programme"' in form
    response = hq.post(f"/agreements/{agreement_id}/edit", data={
        "title": "Microsoft cyber", "partner": "microsoft", "track": "cybersecurity",
        "campuses": ["molenbeek", "antwerp"], "currency": "EUR", "starts_on": "2026-01-01",
        "ends_on": "2027-12-31", "fixed_fee": "24000", "instalments": "12",
        "per_admitted": "100", "per_completion": "300", "per_certified": "500",
        "trained_target": "150", "certified_target": "60"})
    assert response.status_code == 302
    assert agreements(app)[0][1] == "Microsoft cyber" and agreements(app)[0][7] == 2400000
    detail = text_of(hq.get(f"/agreements/{agreement_id}"))
    assert INVOICES["molenbeek"] in detail and "€1,000.00" in detail  # as issued


def test_hq_edit_of_the_partner_of_an_invoiced_agreement_is_refused(hq, app, base):
    agreement_id = base.catalogue["agreement"][0]
    before = agreements(app)
    response = hq.post(f"/agreements/{agreement_id}/edit", data=FORM | {
        "partner": "google", "starts_on": "2026-01-01", "ends_on": "2027-12-31"})
    assert response.status_code == 409
    assert "partner and currency stay as they are" in text_of(response)
    assert agreements(app) == before


def test_hq_detail_shows_invoices_and_progress_against_targets(hq, app, base):
    build_programme(app, base)
    agreement_id = base.catalogue["agreement"][0]
    page = text_of(hq.get(f"/agreements/{agreement_id}"))
    for number in INVOICES.values():
        assert number in page
    # Completed at Molenbeek in the programme's cohort: Ada, Bob, Cem, Dan, Eva (5 of 150);
    # fully certified: Ada, Bob, Dan, Eva (4 of 60).
    assert "Trained (completed): 5 / 150" in page
    assert 'id="progress-trained" max="150" value="5"' in page
    assert "Fully certified: 4 / 60" in page
    assert not any(marker in page for marker in MARKERS.values())  # counts only
    assert "Ada" not in page


def test_hq_detail_of_an_unknown_agreement_is_404(hq):
    assert hq.get("/agreements/999999").status_code == 404
    assert hq.get("/agreements/999999/edit").status_code == 404


def test_agreement_pages_exist_only_for_hq(site, base):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get("/agreements").status_code == 404
    assert molenbeek.get("/invoice-runs").status_code == 404
    anonymous = site("hq")
    response = anonymous.get("/agreements")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the invoice run page ---------------------------------------------------------------------


def test_run_page_offers_last_month(hq, monkeypatch):
    page = text_of(hq.get("/invoice-runs"))
    assert 'type="month"' in page and 'name="csrf_token"' in page
    assert re.search(r'name="month" type="month" value="\d{4}-\d{2}"', page)
    assert "flask --app wsgi billing invoice-partners --month YYYY-MM" in page


def test_run_page_runs_a_month_flashes_and_lists_its_invoices(hq, app, base):
    response = hq.post("/invoice-runs", data={"month": "2026-10"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/invoice-runs?month=2026-10")
    page = text_of(hq.get(response.headers["Location"]))
    assert "2026-10: 2 created" in page
    assert '<progress id="run-progress" max="2" value="2">' in page
    for number in NEXT.values():
        assert number in page
    assert "Partner invoices for October 2026" in page
    assert len(invoice_rows(app)) == 2
    again = hq.post("/invoice-runs", data={"month": "2026-10"})
    assert "0 created, 2 skipped" in text_of(hq.get(again.headers["Location"]))
    assert len(invoice_rows(app)) == 2


@pytest.mark.parametrize("month", ["", "2026-13", "next month", "2999-01"])
def test_run_page_refuses_a_bad_month_and_runs_nothing(hq, app, base, month):
    with app.app_context(), all_campuses(db.session):
        before = db.session.scalar(select(func.count()).select_from(Invoice))
    response = hq.post("/invoice-runs", data={"month": month})
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="month-error"' in page and 'aria-invalid="true"' in page
    with app.app_context(), all_campuses(db.session):
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == before


def test_run_page_list_runs_a_fixed_number_of_queries(hq, app, base):
    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert hq.get("/invoice-runs?month=2026-10").status_code == 200
        return len(statements)

    hq.post("/invoice-runs", data={"month": "2026-10"})
    hq.get("/invoice-runs")  # shows and forgets the last run
    small = measure()
    for n in range(3):
        add_agreement(app, base, title=f"Deal {n}", fixed_fee_minor=1000,
                      starts_on=date(2026, 10, 1))
    hq.post("/invoice-runs", data={"month": "2026-10"})
    hq.get("/invoice-runs")
    assert len(invoice_rows(app)) == 8
    assert measure() == small
