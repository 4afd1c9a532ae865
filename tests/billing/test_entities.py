"""Billing entities: HQ's list and edit form (`/billing/entities` on `hq.`), the JSON API
(`/api/v1/billing-entities`), and a campus's own details, read-only (`/billing`).

Rules proved: VAT numbers checked for the entity's country (python-stdnum in the EU), IBAN and
BIC checked, VAT rate from 0 to 99.99, Stripe refused where Stripe opens no account (Morocco), the
invoice prefix fixed once the entity has issued an invoice; every refusal changes nothing.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.entities.models import BillingEntity, PaymentProvider
from billing.entities.services import ensure_campus_entities, normalise_vat_number
from billing.invoices.models import InvoiceKind
from core.extensions import db
from core.partners.models import Partner
from tenants.campuses.models import Campus
from tenants.campuses.services import create_campus
from tenants.scoping import campus_scope
from tests.support.data import ENTITY_CODES, HQ, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries

VALID = {
    "legal_name": "Campusflow Brussels SRL", "address": "Rue Ransfort 27, 1080 Molenbeek",
    "country": "BE", "vat_number": "BE0456789034", "vat_rate": "21", "iban": "BE68539007547034",
    "bic": "BBRUBEBB", "payment_provider": "stripe", "payment_terms_days": "30",
}
COLUMNS = ("code", "legal_name", "address", "country", "vat_number", "vat_rate", "iban", "bic",
           "payment_provider", "payment_terms_days")


@pytest.fixture
def hq(site):
    hq = site("hq")
    assert hq.sign_in(HQ).status_code == 302
    return hq


@pytest.fixture
def api(site):
    hq = site("hq")
    hq.headers = {"Authorization": f"Bearer {hq.token(HQ)}"}
    return hq


def entity_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(BillingEntity.id).where(BillingEntity.code == code))


def stored(app, code_or_id) -> dict:
    with app.app_context():
        column = BillingEntity.id if isinstance(code_or_id, int) else BillingEntity.code
        entity = db.session.scalar(select(BillingEntity).where(column == code_or_id))
        return {name: getattr(entity, name) for name in COLUMNS}


def entity_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BillingEntity))


def open_campus(app, slug: str, country: str, currency: str = "EUR") -> int:
    with app.app_context():
        campus = create_campus(slug=slug, name=slug.title(), city=slug.title(), country=country,
                               currency=currency, timezone="Europe/Brussels", locale="en",
                               status="open")
        db.session.commit()
        return campus.id


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- HQ's list ------------------------------------------------------------------------------


def test_hq_lists_its_entity_first_then_each_campus_with_locked_prefixes(hq):
    response = hq.get("/billing/entities")
    assert response.status_code == 200
    page = text_of(response)
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>\s*<td>(\w+)(.*?)</td>', page, re.S)
    assert [(name, code) for name, code, _ in rows] == [
        ("HQ", "HQ"), ("Antwerp", "ANT"), ("Molenbeek", "MOL")]
    locked = {code: "in use" in rest for _, code, rest in rows}
    assert locked == {"HQ": False, "ANT": True, "MOL": True}
    assert "BE0123456749" in page and "Stripe (cards), and transfers" in page


def test_a_campus_without_entity_gets_one_with_defaults_on_first_view(app, hq):
    open_campus(app, "padua", "IT")
    open_campus(app, "casablanca", "MA", "MAD")
    before = entity_count(app)
    page = text_of(hq.get("/billing/entities"))
    assert entity_count(app) == before + 2
    assert "Campusflow Padua" in page and "Campusflow Casablanca" in page
    padua, casablanca = stored(app, "PAD"), stored(app, "CAS")
    assert (padua["country"], padua["vat_rate"], padua["payment_provider"]) == (
        "IT", Decimal("22.00"), PaymentProvider.STRIPE)
    assert (casablanca["country"], casablanca["payment_provider"]) == (
        "MA", PaymentProvider.MANUAL)
    hq.get("/billing/entities")
    assert entity_count(app) == before + 2  # created once


def test_search_finds_entities_by_prefix_legal_name_or_campus(hq):
    page = text_of(hq.get("/billing/entities?q=antw"))
    assert "Campusflow Antwerp SRL" in page and "Campusflow Brussels SRL" not in page
    page = text_of(hq.get("/billing/entities?q=MOL"))
    assert "Campusflow Brussels SRL" in page and "Campusflow Antwerp SRL" not in page
    page = text_of(hq.get("/billing/entities?q=nowhere%25"))
    assert "No entity matches" in page


# --- the edit form --------------------------------------------------------------------------


def test_hq_edits_an_entity_and_values_are_normalised(app, hq):
    mol = entity_id(app, "MOL")
    form = hq.get(f"/billing/entities/{mol}/edit")
    assert form.status_code == 200
    assert 'value="BE68 5390 0754 7034"' in text_of(form)  # IBAN shown in groups
    assert 'name="code"' not in text_of(form)  # MOL has issued invoices: prefix fixed
    response = hq.post(f"/billing/entities/{mol}/edit", data={
        **VALID, "legal_name": "  Campusflow   Molenbeek SRL ", "vat_number": "be 0456.789.034",
        "vat_rate": "5,5", "iban": "be68 5390 0754 7034", "bic": "bbrubebb",
        "payment_terms_days": "45"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/billing/entities"
    saved = stored(app, "MOL")
    assert saved["legal_name"] == "Campusflow Molenbeek SRL"
    assert saved["vat_number"] == "BE0456789034"
    assert saved["vat_rate"] == Decimal("5.50")
    assert saved["iban"] == "BE68539007547034" and saved["bic"] == "BBRUBEBB"
    assert saved["payment_terms_days"] == 45
    assert "Saved the billing details of Campusflow Molenbeek SRL." in text_of(
        hq.get("/billing/entities"))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("vat_number", "BE0456789035", "not a valid EU VAT number"),
    ("vat_number", "NL004495445B01", "starting with BE"),
    ("vat_number", "", "Enter the VAT"),
    ("iban", "BE68539007547035", "not a valid IBAN"),
    ("iban", "BE00 0000 0000 0000", "not a valid IBAN"),
    ("bic", "BB", "A BIC has 8 or 11"),
    ("vat_rate", "100", "A percentage from 0 to 99.99"),
    ("vat_rate", "-1", "A percentage from 0 to 99.99"),
    ("vat_rate", "21.555", "At most 2 decimals"),
    ("country", "XX", "two-letter ISO country code"),
    ("payment_terms_days", "-3", "A number of days"),
    ("payment_provider", "paypal", "Choose stripe or manual"),
    ("legal_name", "   ", "Enter the legal name"),
])
def test_bad_input_is_refused_with_a_field_error_and_nothing_changes(app, hq, field, value,
                                                                    message):
    mol = entity_id(app, "MOL")
    before = stored(app, "MOL")
    response = hq.post(f"/billing/entities/{mol}/edit",
                       data={**VALID, "legal_name": "Changed SRL", field: value})
    assert response.status_code == 422
    page = text_of(response)
    assert message in page
    assert f'id="{field}"' in page and f'aria-describedby="{field}-error' in page
    assert 'aria-invalid="true"' in page
    if field != "legal_name":
        assert 'value="Changed SRL"' in page  # what was typed is kept
    assert stored(app, "MOL") == before


def test_every_problem_of_a_form_is_reported_at_once(app, hq, api):
    mol = entity_id(app, "MOL")
    before = stored(app, mol)
    response = hq.post(f"/billing/entities/{mol}/edit",
                       data={**VALID, "iban": "BE00 0000", "vat_number": "BE0456789035"})
    assert response.status_code == 422
    page = text_of(response)
    assert 'aria-describedby="iban-error' in page and 'aria-describedby="vat_number-error' in page
    refused = api.patch(f"/api/v1/billing-entities/{mol}", headers=api.headers,
                        json={"iban": "BE00 0000", "vat_number": "BE0456789035"})
    assert set(refused.get_json()["error"]["fields"]) == {"iban", "vat_number"}
    assert stored(app, mol) == before


def test_stripe_is_refused_for_a_campus_in_a_country_stripe_does_not_serve(app, hq, api):
    open_campus(app, "casablanca", "MA", "MAD")
    hq.get("/billing/entities")
    cas = entity_id(app, "CAS")
    before = stored(app, cas)
    response = hq.post(f"/billing/entities/{cas}/edit", data={
        **VALID, "legal_name": "Campusflow Maroc SARL", "country": "MA",
        "vat_number": "IF 12345678", "iban": "", "bic": "",
        "payment_provider": "stripe", "code": "CAS"})
    assert response.status_code == 422
    assert "Stripe opens no account for a business in MA" in text_of(response)
    assert 'aria-describedby="payment_provider-error' in text_of(response)
    assert stored(app, cas) == before
    # Manual is accepted, with a Moroccan tax number kept as typed.
    response = hq.post(f"/billing/entities/{cas}/edit", data={
        **VALID, "legal_name": "Campusflow Maroc SARL", "country": "MA",
        "vat_number": "IF 12345678", "iban": "", "bic": "",
        "payment_provider": "manual", "vat_rate": "20", "code": "CAS"})
    assert response.status_code == 302
    assert stored(app, cas)["vat_number"] == "IF 12345678"
    # Even registered elsewhere, the campus's entity may not take Stripe in Casablanca.
    refused = api.patch(f"/api/v1/billing-entities/{cas}", headers=api.headers, json={
        "country": "FR", "vat_number": "FR40303265045", "payment_provider": "stripe"})
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]) == {"payment_provider"}


def test_an_entity_moving_to_morocco_must_leave_stripe(app, api):
    mol = entity_id(app, "MOL")
    before = stored(app, mol)
    response = api.patch(f"/api/v1/billing-entities/{mol}", headers=api.headers,
                         json={"country": "MA", "vat_number": "12345678"})
    assert response.status_code == 422
    assert "payment_provider" in response.get_json()["error"]["fields"]
    assert stored(app, mol) == before


def test_a_non_eu_tax_number_must_look_like_one(app, api):
    hq_id = entity_id(app, "HQ")
    response = api.patch(f"/api/v1/billing-entities/{hq_id}", headers=api.headers,
                         json={"country": "CH", "vat_number": "!!"})
    assert response.status_code == 422
    assert "vat_number" in response.get_json()["error"]["fields"]
    ok = api.patch(f"/api/v1/billing-entities/{hq_id}", headers=api.headers,
                   json={"country": "CH", "vat_number": "che-123.456.788 mwst"})
    assert ok.status_code == 200 and ok.get_json()["vat_number"] == "CHE-123.456.788 MWST"


def test_vat_numbers_are_checked_for_the_entitys_country(app):
    with app.app_context():
        assert normalise_vat_number("0456789034", "BE") == "BE0456789034"  # prefix added
        assert normalise_vat_number("EL 094014201", "GR") == "EL094014201"
        for number, country in (("BE0456789035", "BE"), ("BE0456789034", "NL"),
                                ("094014201", "BE")):
            with pytest.raises(ValueError):
                normalise_vat_number(number, country)


# --- the invoice prefix ---------------------------------------------------------------------


def test_prefix_is_editable_until_the_entity_issues_an_invoice(app, base, hq, api):
    from billing.invoices.services import LineInput, create_invoice, issue_invoice

    padua = open_campus(app, "padua", "IT")
    hq.get("/billing/entities")
    pad = entity_id(app, "PAD")
    form = text_of(hq.get(f"/billing/entities/{pad}/edit"))
    assert 'name="code"' in form and f"PAD-{date.today().year}-0001" in form
    taken = api.patch(f"/api/v1/billing-entities/{pad}", headers=api.headers,
                      json={"code": "MOL"})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "code_taken"
    bad = api.patch(f"/api/v1/billing-entities/{pad}", headers=api.headers,
                    json={"code": "pd-1"})
    assert bad.status_code == 422 and "code" in bad.get_json()["error"]["fields"]
    renamed = api.patch(f"/api/v1/billing-entities/{pad}", headers=api.headers,
                        json={"code": "pdu"})
    assert renamed.status_code == 200
    assert renamed.get_json()["code"] == "PDU" and renamed.get_json()["code_locked"] is False
    with app.app_context(), campus_scope(padua, db.session):
        issuer = db.session.get(BillingEntity, pad)
        google = db.session.get(Partner, base.other_partner_id)
        invoice = create_invoice(kind=InvoiceKind.PARTNER, issuer=issuer, currency="EUR",
                                 partner=google, lines=[LineInput("Workshop", 1, 50000)])
        issue_invoice(invoice, issued_on=date(2027, 1, 4))
        assert invoice.number == "PDU-2027-0001"
        db.session.commit()
    locked = api.patch(f"/api/v1/billing-entities/{pad}", headers=api.headers,
                       json={"code": "PAD"})
    assert locked.status_code == 409
    assert locked.get_json()["error"]["code"] == "code_locked"
    assert "code" in locked.get_json()["error"]["fields"]
    assert stored(app, pad)["code"] == "PDU"
    # The same code is no change; other fields stay editable.
    same = api.patch(f"/api/v1/billing-entities/{pad}", headers=api.headers,
                     json={"code": "PDU", "payment_terms_days": 60})
    assert same.status_code == 200 and same.get_json()["code_locked"] is True
    form = text_of(hq.get(f"/billing/entities/{pad}/edit"))
    assert 'name="code"' not in form and "Fixed: this entity has issued invoices" in form


def test_form_refuses_a_prefix_change_on_an_entity_with_invoices(app, hq):
    mol = entity_id(app, "MOL")
    response = hq.post(f"/billing/entities/{mol}/edit", data={**VALID, "code": "MLB"})
    assert response.status_code == 409
    assert "cannot change once the entity has issued an invoice" in text_of(response)
    assert stored(app, mol)["code"] == "MOL"


# --- JSON -----------------------------------------------------------------------------------


def test_entities_json_lists_hq_then_campuses(api):
    response = api.get("/api/v1/billing-entities", headers=api.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3
    assert [(e["code"], e["campus"], e["is_hq"], e["code_locked"]) for e in body["items"]] == [
        ("HQ", None, True, False), ("ANT", "antwerp", False, True),
        ("MOL", "molenbeek", False, True)]
    mol = body["items"][2]
    assert mol["vat_rate"] == "21.00" and mol["payment_provider"] == "stripe"
    assert mol["iban"] == "BE68539007547034"
    one = api.get(f"/api/v1/billing-entities/{mol['id']}", headers=api.headers)
    assert one.status_code == 200 and one.get_json() == mol
    assert api.get("/api/v1/billing-entities?q=ANT", headers=api.headers).get_json()["total"] == 1


def test_entities_json_patch_changes_only_what_is_sent(app, api):
    ant = entity_id(app, "ANT")
    before = stored(app, ant)
    response = api.patch(f"/api/v1/billing-entities/{ant}", headers=api.headers,
                         json={"vat_rate": 6, "payment_provider": "manual"})
    assert response.status_code == 200
    assert response.get_json()["vat_rate"] == "6.00"
    after = stored(app, ant)
    assert after["vat_rate"] == Decimal("6.00")
    assert after["payment_provider"] == PaymentProvider.MANUAL
    assert {k: v for k, v in after.items() if k not in ("vat_rate", "payment_provider")} == {
        k: v for k, v in before.items() if k not in ("vat_rate", "payment_provider")}


@pytest.mark.parametrize("body", [
    {"vat_number": "BE0456789035"}, {"iban": "BE00 0000 0000 0000"}, {"vat_rate": 99.999},
    {"vat_rate": "abc"}, {"payment_terms_days": 366}, {"legal_name": ""}, {"country": "be1"},
])
def test_entities_json_patch_refuses_bad_input_and_changes_nothing(app, api, body):
    mol = entity_id(app, "MOL")
    before = stored(app, mol)
    response = api.patch(f"/api/v1/billing-entities/{mol}", headers=api.headers, json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == set(body)
    assert stored(app, mol) == before


def test_unknown_entity_is_not_found(api, hq):
    assert api.get("/api/v1/billing-entities/999999", headers=api.headers).status_code == 404
    assert hq.get("/billing/entities/999999/edit").status_code == 404


# --- who may see what -----------------------------------------------------------------------


def test_campus_manager_sees_own_entity_read_only(site):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    response = molenbeek.get("/billing")
    assert response.status_code == 200
    page = text_of(response)
    assert "Campusflow Brussels SRL" in page and "BE0456789034" in page
    assert "BE68 5390 0754 7034" in page and "Stripe (cards), and transfers" in page
    assert "Campusflow Antwerp SRL" not in page and "BE0765432146" not in page
    assert '<form method="post" novalidate' not in page  # nothing to edit here
    assert 'href="/billing"' in page  # in the navigation


def test_campus_page_creates_the_entity_of_a_new_campus(app, site):
    open_campus(app, "utrecht", "NL")
    utrecht = site("utrecht")
    assert utrecht.sign_in(HQ).status_code == 302
    page = text_of(utrecht.get("/billing"))
    assert "Campusflow Utrecht" in page
    assert stored(app, "UTR")["vat_rate"] == Decimal("21.00")


def test_staff_see_no_billing_details(site):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(staff("molenbeek"))
    assert molenbeek.get("/billing").status_code == 403
    assert 'href="/billing"' not in text_of(molenbeek.get("/"))


def test_only_hq_reaches_entity_administration(app, site):
    mol = entity_id(app, "MOL")
    molenbeek = site("molenbeek")
    token = molenbeek.token(manager("molenbeek"))
    headers = {"Authorization": f"Bearer {token}"}
    assert molenbeek.get("/api/v1/billing-entities", headers=headers).status_code == 404
    assert site("hq").get("/api/v1/billing-entities", headers=headers).status_code == 401
    partners = site("partners")
    partner = {"Authorization": f"Bearer {partners.token(PARTNER_CONTACT)}"}
    assert partners.get("/api/v1/billing-entities", headers=partner).status_code == 404
    assert site("hq").patch(f"/api/v1/billing-entities/{mol}", headers=partner,
                            json={"vat_rate": 0}).status_code == 401
    assert site("hq").get("/billing/entities").status_code == 302  # to the sign-in page
    assert stored(app, mol)["vat_rate"] == Decimal("21.00")


def test_base_entities_match_the_campus_codes(app):
    with app.app_context():
        codes = dict(db.session.execute(select(Campus.slug, BillingEntity.code).join(
            BillingEntity, BillingEntity.campus_id == Campus.id)).all())
    assert codes == ENTITY_CODES


# --- query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/billing/entities", "/api/v1/billing-entities"])
def test_entity_lists_run_a_fixed_number_of_queries(app, hq, api, path):
    kwargs = {"headers": api.headers} if path.startswith("/api/") else {}
    client = api if kwargs else hq

    def count() -> int:
        client.get(path, **kwargs)  # creates the entities of new campuses
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get(path, **kwargs).status_code == 200
        return len(statements)

    open_campus(app, "padua", "IT")
    few = count()
    for slug in ("rotterdam", "charleroi", "amsterdam", "utrecht", "bruges"):
        open_campus(app, slug, "NL" if slug in ("rotterdam", "amsterdam", "utrecht") else "BE")
    assert count() == few
    with app.app_context():
        assert ensure_campus_entities() == 0
