"""HQ's exchange rates: the page (list, form, CSV upload) and `/api/v1/fx-rates` on hq."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.currencies.models import FxRate
from billing.currencies.services import set_rate
from core.extensions import db
from tests.support.data import HQ, PARTNER_CONTACT, manager
from tests.support.queries import count_queries

API = "/api/v1/fx-rates"


def hq(site):
    client = site("hq")
    assert client.sign_in(HQ).status_code == 302
    return client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def rates(app, currency: str | None = None) -> dict[tuple[date, str], Decimal]:
    with app.app_context():
        statement = select(FxRate.day, FxRate.currency, FxRate.rate)
        if currency:
            statement = statement.where(FxRate.currency == currency)
        return {(day, code): rate for day, code, rate in db.session.execute(statement)}


def rate_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FxRate))


def add_rates(app, currency: str, count: int, first: date = date(2025, 1, 1)) -> None:
    with app.app_context():
        for k in range(count):
            set_rate(first + timedelta(days=k), currency, Decimal("1.05") + Decimal(k) / 100)
        db.session.commit()


def upload(client, content: bytes, name: str = "rates.csv"):
    """POST `content` as the file of the upload form (the multipart body built here, so that the
    test client spools nothing to a temporary file of its own)."""
    boundary = "campusflow-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").encode() + content + \
        f"\r\n--{boundary}--\r\n".encode()
    return client.post("/fx/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


# --- the page -------------------------------------------------------------------------------


def test_rates_are_listed_newest_first(site, base):
    page = hq(site).get("/fx").get_data(as_text=True)
    assert page.index("2026-11-02") < page.index("2024-01-01")
    assert "10.85" in page and "10.80" in page


def test_rates_filter_by_currency_and_paginate(app, site, base):
    add_rates(app, "USD", 30)
    client = hq(site)
    usd = client.get("/fx?currency=usd").get_data(as_text=True)
    assert "MAD" not in usd.split('id="rates"')[1]
    assert "Page 1 of 2" in usd and "2025-01-30" in usd and "2025-01-01" not in usd
    second = client.get("/fx?currency=USD&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and "2025-01-01" in second
    assert second.split('id="rates"')[1].count("<tr>") == 1 + 5  # header + the last five
    everything = client.get("/fx").get_data(as_text=True)
    assert "2026-11-02" in everything.split('id="rates"')[1]  # MAD, newest of all
    assert client.get("/fx?currency=%27%20OR%201=1").status_code == 200  # dropped, not an error


def test_an_empty_currency_filter_says_what_to_do(site, base):
    page = hq(site).get("/fx?currency=GBP").get_data(as_text=True)
    assert "No GBP rate yet" in page


def test_hq_enters_a_rate_from_the_form(app, site, base):
    client = hq(site)
    response = client.post("/fx", data={"day": "2026-11-20", "currency": "mad", "rate": "10,8725"})
    assert response.status_code == 302
    assert rates(app, "MAD")[(date(2026, 11, 20), "MAD")] == Decimal("10.8725")
    assert "Saved: 1 EUR = 10.8725" in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_entering_the_rate_of_a_known_day_corrects_it(app, site, base):
    client = hq(site)
    before = rate_count(app)
    assert client.post("/fx", data={"day": "2026-11-02", "currency": "MAD",
                                    "rate": "10.86"}).status_code == 302
    assert rate_count(app) == before
    assert rates(app, "MAD")[(date(2026, 11, 2), "MAD")] == Decimal("10.86")


@pytest.mark.parametrize(("form", "field"), [
    ({"day": "2026-11-20", "currency": "EUR", "rate": "1"}, "currency"),
    ({"day": "2026-11-20", "currency": "ZZZ", "rate": "1"}, "currency"),
    ({"day": "2026-11-20", "currency": "MAD", "rate": "-10.85"}, "rate"),
    ({"day": "2026-11-20", "currency": "MAD", "rate": "0"}, "rate"),
    ({"day": "2026-11-20", "currency": "MAD", "rate": "ten"}, "rate"),
    ({"day": "2026-11-20", "currency": "MAD", "rate": "10.123456789"}, "rate"),
    ({"day": "20/11/2026", "currency": "MAD", "rate": "10.85"}, "day"),
    ({"day": "", "currency": "MAD", "rate": "10.85"}, "day"),
])
def test_invalid_rate_form_is_422_by_field_and_saves_nothing(app, site, base, form, field):
    before = rates(app)
    response = hq(site).post("/fx", data=form)
    assert response.status_code == 422, form
    page = response.get_data(as_text=True)
    assert f'aria-describedby="{field}-error"' in page
    assert f'value="{form["rate"]}"' in page  # what was typed is kept
    assert rates(app) == before


def test_csv_upload_imports_every_line(app, site, base):
    client = hq(site)
    response = upload(client, b"\xef\xbb\xbfdate,currency,rate\n2026-11-03,MAD,10.87\n"
                              b"2026-11-03,USD,1.08\n")
    assert response.status_code == 302
    stored = rates(app)
    assert stored[(date(2026, 11, 3), "MAD")] == Decimal("10.87")
    assert stored[(date(2026, 11, 3), "USD")] == Decimal("1.08")
    assert "Imported 2 rate(s)." in client.get("/fx").get_data(as_text=True)


def test_csv_upload_names_the_bad_line_and_imports_nothing(app, site, base):
    before = rates(app)
    response = upload(hq(site), b"date,currency,rate\n2026-11-03,MAD,10.87\n2026-11-04,MAD,ten\n")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Line 3" in page and "Nothing was imported" in page
    assert 'aria-describedby="file-error file-hint"' in page
    assert rates(app) == before  # the good line 2 is not kept either


@pytest.mark.parametrize(("content", "name", "expected"), [
    (b"", "rates.csv", "empty"),
    (b"2026-11-03,EUR,1\n", "rates.csv", "Line 1"),
    (b"\xff\xfe2\x000\x00", "rates.csv", "UTF-8"),
    (b"2026-11-03,MAD,10.87\n" * 60000, "big.csv", "larger than 1 MB"),
])
def test_bad_uploads_are_refused_with_a_reason(app, site, base, content, name, expected):
    before = rate_count(app)
    response = upload(hq(site), content, name)
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)
    assert rate_count(app) == before


def test_upload_without_a_file_is_422(site, base):
    response = hq(site).post("/fx/import", data={})
    assert response.status_code == 422
    assert "Choose a CSV file" in response.get_data(as_text=True)


def test_only_hq_reaches_the_rates(site, base):
    anonymous = site("hq").get("/fx")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get("/fx").status_code == 404
    assert molenbeek.post("/fx", data={"day": "2026-11-20", "currency": "MAD",
                                       "rate": "1"}).status_code == 404


def test_rates_page_query_count_does_not_grow(app, site, base):
    client = hq(site)

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get("/fx").status_code == 200
        return len(statements)

    before = measure()
    add_rates(app, "USD", 20)
    assert measure() == before


# --- the API --------------------------------------------------------------------------------


def test_api_lists_rates_newest_first_with_rates_as_strings(app, site, base):
    add_rates(app, "USD", 3)
    client = site("hq")
    token = client.token(HQ)
    body = client.get(f"{API}?currency=mad", headers=bearer(token)).get_json()
    assert set(body) == {"items", "page", "per_page", "total"}
    assert [(i["day"], i["rate"]) for i in body["items"]] == [
        ("2026-11-02", "10.85000000"), ("2024-01-01", "10.80000000")]
    everything = client.get(f"{API}?per_page=2", headers=bearer(token)).get_json()
    assert everything["total"] == 5 and len(everything["items"]) == 2
    assert client.get(f"{API}?currency=EURO", headers=bearer(token)).status_code == 422


def test_api_enters_a_rate_exactly(app, site, base):
    client = site("hq")
    token = client.token(HQ)
    created = client.post(API, headers=bearer(token),
                          json={"day": "2026-11-21", "currency": "mad", "rate": "10.87654321"})
    assert created.status_code == 201
    assert created.get_json()["rate"] == "10.87654321"
    assert created.get_json()["currency"] == "MAD"
    as_number = client.post(API, headers=bearer(token),
                            json={"day": "2026-11-22", "currency": "MAD", "rate": 10.85})
    assert as_number.status_code == 201
    assert rates(app, "MAD")[(date(2026, 11, 22), "MAD")] == Decimal("10.85")


@pytest.mark.parametrize(("body", "field"), [
    ({"day": "2026-11-21", "currency": "EUR", "rate": "1"}, "currency"),
    ({"day": "2026-11-21", "currency": "MAD", "rate": "-1"}, "rate"),
    ({"day": "2026-11-21", "currency": "MAD", "rate": "1.123456789"}, "rate"),
    ({"day": "2026-11-21", "currency": "MAD", "rate": "NaN"}, "rate"),
    ({"day": "tomorrow", "currency": "MAD", "rate": "1"}, "day"),
    ({"currency": "MAD", "rate": "1"}, "day"),
])
def test_api_refuses_bad_rates_with_422_and_changes_nothing(app, site, base, body, field):
    client = site("hq")
    before = rates(app)
    response = client.post(API, headers=bearer(client.token(HQ)), json=body)
    assert response.status_code == 422, body
    assert field in response.get_json()["error"]["fields"]
    assert rates(app) == before


def test_api_is_hq_only(site, base):
    hq_site = site("hq")
    assert hq_site.get(API).status_code == 401
    manager_token = site("molenbeek").token(manager("molenbeek"))
    assert hq_site.get(API, headers=bearer(manager_token)).status_code == 401
    assert hq_site.post(API, headers=bearer(manager_token),
                        json={"day": "2026-11-21", "currency": "MAD", "rate": "1"}
                        ).status_code == 401
    partner_token = site("partners").token(PARTNER_CONTACT)
    assert hq_site.get(API, headers=bearer(partner_token)).status_code == 401
    molenbeek = site("molenbeek")
    assert molenbeek.get(API, headers=bearer(molenbeek.token(HQ))).status_code == 404


def test_api_list_query_count_does_not_grow(app, site, base):
    client = site("hq")
    token = client.token(HQ)

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get(API, headers=bearer(token)).status_code == 200
        return len(statements)

    before = measure()
    add_rates(app, "USD", 20)
    assert measure() == before


def test_upload_page_offers_known_currencies(site, base):
    page = hq(site).get("/fx").get_data(as_text=True)
    assert re.search(r'<datalist id="known-currencies"><option value="MAD">', page)
