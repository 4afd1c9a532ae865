"""`/api/v1/revenue`: a campus's ledger entries, manual entries and reversals (manager and HQ)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from billing.ledger import api as revenue_api
from billing.ledger.models import EntrySource, RevenueEntry, RevenueRollup, RevenueStream
from billing.ledger.services import record_entry
from core.auth.models import User
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, manager, staff
from tests.support.queries import count_queries

BASE_DAY = date(2026, 11, 3)  # the base data's coworking entry of 120.00 EUR at each campus


def campus_today() -> date:
    """Today at the base campuses (both in Europe/Brussels)."""
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


def bearer(site, email: str) -> dict:
    return {"Authorization": f"Bearer {site.token(email)}"}


def manager_on(site, campus: str = "molenbeek"):
    client = site(campus)
    return client, bearer(client, manager(campus))


def body(**changes) -> dict:
    data = {"occurred_on": "2026-11-10", "stream": "events", "amount_minor": 4550,
            "memo": "Tickets sold at the door"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


def ledger_state(app, campus_id: int) -> tuple[int, list[tuple]]:
    """(entries, rollups) of a campus: what a refused request must leave unchanged."""
    with app.app_context(), campus_scope(campus_id, db.session):
        count = db.session.scalar(select(func.count()).select_from(RevenueEntry))
        rollups = db.session.execute(
            select(RevenueRollup.month, RevenueRollup.stream, RevenueRollup.currency,
                   RevenueRollup.amount_minor, RevenueRollup.amount_eur_minor,
                   RevenueRollup.entry_count)
            .order_by(RevenueRollup.month, RevenueRollup.stream, RevenueRollup.currency)).all()
    return count, [tuple(row) for row in rollups]


def set_currency(app, campus_id: int, currency: str) -> None:
    """Switch a base campus to another currency inside the test's transaction."""
    with app.app_context():
        db.session.execute(update(Campus).where(Campus.id == campus_id).values(currency=currency))
        db.session.commit()


def add_entries(app, campus_id: int, entries: list[tuple]) -> list[int]:
    """(day, stream, amount, currency) rows recorded through the service; returns their ids."""
    with app.app_context(), campus_scope(campus_id, db.session):
        ids = [record_entry(occurred_on=day, stream=stream, amount_minor=amount,
                            currency=currency, source=EntrySource.MANUAL, memo=f"seeded {i}").id
               for i, (day, stream, amount, currency) in enumerate(entries)]
        db.session.commit()
    return ids


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def stored(app, campus_id: int, entry_id: int) -> RevenueEntry | None:
    with app.app_context(), campus_scope(campus_id, db.session):
        return db.session.get(RevenueEntry, (campus_id, entry_id))


# --- recording ----------------------------------------------------------------------------------


def test_manager_records_a_manual_entry_in_the_campus_currency(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    molenbeek, auth = manager_on(site)
    response = molenbeek.post("/api/v1/revenue", headers=auth, json=body())
    assert response.status_code == 201, response.get_json()
    entry = response.get_json()
    assert entry["amount_minor"] == 4550 and entry["amount_eur_minor"] == 4550
    assert (entry["currency"], entry["fx_rate"]) == ("EUR", "1")
    assert (entry["source"], entry["stream"], entry["occurred_on"]) == ("manual", "events",
                                                                        "2026-11-10")
    assert entry["created_by"] == user_id(app, manager("molenbeek"))
    assert entry["reverses_id"] is None and entry["reversed"] is False
    assert entry["source_key"].startswith("manual:") and entry["created_at"]
    row = stored(app, molenbeek_id, entry["id"])
    assert (row.amount_minor, row.memo, row.source) == (4550, "Tickets sold at the door",
                                                        EntrySource.MANUAL)
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        rollup = db.session.scalar(select(RevenueRollup).where(
            RevenueRollup.month == date(2026, 11, 1), RevenueRollup.stream == RevenueStream.EVENTS))
    assert (rollup.amount_minor, rollup.entry_count) == (4550, 1)


def test_a_negative_amount_is_money_paid_back(site, base):
    molenbeek, auth = manager_on(site)
    response = molenbeek.post("/api/v1/revenue", headers=auth,
                              json=body(amount_minor=-1999, memo="Refund of a day pass"))
    assert response.status_code == 201
    assert (response.get_json()["amount_minor"], response.get_json()["amount_eur_minor"]) == (
        -1999, -1999)


def test_mad_campus_entry_is_valued_in_eur_at_the_rate_of_its_day(app, site, base):
    set_currency(app, base.campus_ids["molenbeek"], "MAD")
    molenbeek, auth = manager_on(site)
    on_rate_day = molenbeek.post("/api/v1/revenue", headers=auth,
                                 json=body(occurred_on="2026-11-02", amount_minor=150000))
    before_it = molenbeek.post("/api/v1/revenue", headers=auth,
                               json=body(occurred_on="2026-11-01", amount_minor=150000))
    assert on_rate_day.status_code == before_it.status_code == 201
    assert on_rate_day.get_json()["currency"] == "MAD"
    # 1,500.00 MAD at 10.85 = 138.2488… €; the day before takes the 2024 rate, 10.80.
    assert (on_rate_day.get_json()["fx_rate"], on_rate_day.get_json()["amount_eur_minor"]) == (
        "10.85", 13825)
    assert (before_it.get_json()["fx_rate"], before_it.get_json()["amount_eur_minor"]) == (
        "10.8", 13889)


def test_a_day_with_no_exchange_rate_is_422_and_nothing_is_stored(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    set_currency(app, molenbeek_id, "MAD")
    before = ledger_state(app, molenbeek_id)
    molenbeek, auth = manager_on(site)
    response = molenbeek.post("/api/v1/revenue", headers=auth, json=body(occurred_on="2023-12-31"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "No MAD exchange rate on or before 2023-12-31" in error["message"]
    assert "occurred_on" in error["fields"]
    assert ledger_state(app, molenbeek_id) == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount_minor": 0}, "amount_minor"),
    ({"amount_minor": 45.5}, "amount_minor"),
    ({"amount_minor": 4550.0}, "amount_minor"),
    ({"amount_minor": "4550"}, "amount_minor"),
    ({"amount_minor": True}, "amount_minor"),
    ({"amount_minor": None}, "amount_minor"),
    ({"amount_minor": ...}, "amount_minor"),
    ({"amount_minor": 10**15}, "amount_minor"),
    ({"stream": "catering"}, "stream"),
    ({"stream": ...}, "stream"),
    ({"occurred_on": "2026-02-30"}, "occurred_on"),
    ({"occurred_on": ...}, "occurred_on"),
    ({"memo": "   "}, "memo"),
    ({"memo": "x" * 501}, "memo"),
    ({"memo": ...}, "memo"),
    ({"currency": "USD"}, "currency"),  # the currency is the campus's, never the caller's
])
def test_invalid_entry_is_422_naming_the_field_and_nothing_is_stored(app, site, base, changes,
                                                                     field):
    molenbeek_id = base.campus_ids["molenbeek"]
    before = ledger_state(app, molenbeek_id)
    molenbeek, auth = manager_on(site)
    response = molenbeek.post("/api/v1/revenue", headers=auth, json=body(**changes))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert ledger_state(app, molenbeek_id) == before


def test_a_date_in_the_future_at_the_campus_is_refused(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    before = ledger_state(app, molenbeek_id)
    molenbeek, auth = manager_on(site)
    tomorrow = (campus_today() + timedelta(days=1)).isoformat()
    response = molenbeek.post("/api/v1/revenue", headers=auth, json=body(occurred_on=tomorrow))
    assert response.status_code == 422
    assert "occurred_on" in response.get_json()["error"]["fields"]
    assert ledger_state(app, molenbeek_id) == before
    today = molenbeek.post("/api/v1/revenue", headers=auth,
                           json=body(occurred_on=campus_today().isoformat()))
    assert today.status_code == 201


def test_a_body_that_is_not_a_json_object_is_422(site, base):
    molenbeek, auth = manager_on(site)
    response = molenbeek.post("/api/v1/revenue", headers=auth, json=[body()])
    assert response.status_code == 422


def test_hq_records_on_any_campus_and_the_entry_stays_there(app, site, base):
    antwerp = site("antwerp")
    response = antwerp.post("/api/v1/revenue", headers=bearer(antwerp, HQ),
                            json=body(stream="sponsorship", amount_minor=500000))
    assert response.status_code == 201
    entry_id = response.get_json()["id"]
    assert stored(app, base.campus_ids["antwerp"], entry_id).created_by_id == user_id(app, HQ)
    assert stored(app, base.campus_ids["molenbeek"], entry_id) is None


# --- reading ------------------------------------------------------------------------------------


def test_list_is_newest_first_and_filters_by_dates_and_stream(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    ids = add_entries(app, molenbeek_id, [
        (date(2026, 10, 5), RevenueStream.TRAINING, 100000, "EUR"),
        (date(2026, 11, 20), RevenueStream.EVENTS, 2500, "EUR"),
        (date(2026, 11, 3), RevenueStream.EVENTS, 1500, "EUR"),
    ])
    molenbeek, auth = manager_on(site)
    everything = molenbeek.get("/api/v1/revenue", headers=auth).get_json()
    assert everything["total"] == 4 and everything["page"] == 1
    assert [i["id"] for i in everything["items"]] == [
        ids[1], ids[2], base.owned["entry"]["molenbeek"][0], ids[0]]  # date desc, then id desc
    november = molenbeek.get("/api/v1/revenue?from=2026-11-01&to=2026-11-30",
                             headers=auth).get_json()
    assert {i["occurred_on"] for i in november["items"]} == {"2026-11-20", "2026-11-03"}
    assert november["total"] == 3
    events = molenbeek.get("/api/v1/revenue?from=2026-11-03&to=2026-11-03&stream=events",
                           headers=auth).get_json()
    assert [i["id"] for i in events["items"]] == [ids[2]]
    paged = molenbeek.get("/api/v1/revenue?per_page=3&page=2", headers=auth).get_json()
    assert [i["id"] for i in paged["items"]] == [ids[0]] and paged["total"] == 4
    assert MARKERS["antwerp"] not in molenbeek.get("/api/v1/revenue", headers=auth).get_data(
        as_text=True)


@pytest.mark.parametrize("query", ["from=2026-11-30&to=2026-11-01", "from=yesterday",
                                   "stream=catering", "per_page=500", "page=0"])
def test_bad_list_filters_are_422(site, base, query):
    molenbeek, auth = manager_on(site)
    response = molenbeek.get(f"/api/v1/revenue?{query}", headers=auth)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


def test_from_after_to_names_the_to_field(site, base):
    molenbeek, auth = manager_on(site)
    response = molenbeek.get("/api/v1/revenue?from=2026-11-30&to=2026-11-01", headers=auth)
    assert "to" in response.get_json()["error"]["fields"]


def test_one_entry_reads_with_its_reversal_flag(site, base):
    entry_id = base.owned["entry"]["molenbeek"][0]
    molenbeek, auth = manager_on(site)
    response = molenbeek.get(f"/api/v1/revenue/{entry_id}", headers=auth)
    assert response.status_code == 200
    entry = response.get_json()
    assert (entry["amount_minor"], entry["currency"], entry["stream"]) == (12000, "EUR",
                                                                          "coworking")
    assert entry["memo"] == f"{MARKERS['molenbeek']} desk rental"
    assert entry["reversed"] is False and entry["created_by"] is None


def test_another_campus_entry_is_404_to_read_and_to_reverse(app, site, base):
    antwerp_entry = base.owned["entry"]["antwerp"][0]
    before = ledger_state(app, base.campus_ids["antwerp"])
    molenbeek, auth = manager_on(site)
    assert antwerp_entry not in base.owned["entry"]["molenbeek"]
    for response in (molenbeek.get(f"/api/v1/revenue/{antwerp_entry}", headers=auth),
                     molenbeek.post(f"/api/v1/revenue/{antwerp_entry}/reverse", headers=auth,
                                    json={})):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert MARKERS["antwerp"] not in response.get_data(as_text=True)
    hq_molenbeek = site("molenbeek")
    hq_auth = bearer(hq_molenbeek, HQ)
    assert hq_molenbeek.post(f"/api/v1/revenue/{antwerp_entry}/reverse",
                             headers=hq_auth).status_code == 404
    assert ledger_state(app, base.campus_ids["antwerp"]) == before


# --- reversing ----------------------------------------------------------------------------------


def test_reversal_is_201_with_the_reversing_entry_and_a_second_one_is_409(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    entry_id = base.owned["entry"]["molenbeek"][0]
    molenbeek, auth = manager_on(site)
    response = molenbeek.post(f"/api/v1/revenue/{entry_id}/reverse", headers=auth,
                              json={"memo": "Desk was never rented"})
    assert response.status_code == 201
    reversal = response.get_json()
    assert (reversal["amount_minor"], reversal["amount_eur_minor"]) == (-12000, -12000)
    assert (reversal["reverses_id"], reversal["occurred_on"], reversal["stream"]) == (
        entry_id, "2026-11-03", "coworking")
    assert reversal["memo"] == "Desk was never rented"
    assert reversal["created_by"] == user_id(app, manager("molenbeek"))
    assert molenbeek.get(f"/api/v1/revenue/{entry_id}", headers=auth).get_json()["reversed"]
    after_first = ledger_state(app, molenbeek_id)

    again = molenbeek.post(f"/api/v1/revenue/{entry_id}/reverse", headers=auth, json={})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_reversed"
    of_reversal = molenbeek.post(f"/api/v1/revenue/{reversal['id']}/reverse", headers=auth)
    assert of_reversal.status_code == 409
    assert of_reversal.get_json()["error"]["code"] == "is_reversal"
    assert ledger_state(app, molenbeek_id) == after_first
    november = [r for r in after_first[1] if r[0] == date(2026, 11, 1) and r[1] == "coworking"]
    assert [(r[3], r[5]) for r in november] == [(0, 2)]  # the month nets to zero


def test_reversal_without_a_body_gets_a_default_memo(site, base):
    entry_id = base.owned["entry"]["molenbeek"][0]
    molenbeek, auth = manager_on(site)
    response = molenbeek.post(f"/api/v1/revenue/{entry_id}/reverse", headers=auth)
    assert response.status_code == 201
    assert response.get_json()["memo"] == f"Reversal of entry {entry_id}"


def test_reversal_with_a_bad_body_is_422_and_reverses_nothing(app, site, base):
    entry_id = base.owned["entry"]["molenbeek"][0]
    before = ledger_state(app, base.campus_ids["molenbeek"])
    molenbeek, auth = manager_on(site)
    for bad in ({"memo": "x" * 501}, {"amount_minor": 5}, ["memo"]):
        response = molenbeek.post(f"/api/v1/revenue/{entry_id}/reverse", headers=auth, json=bad)
        assert response.status_code == 422, bad
    assert ledger_state(app, base.campus_ids["molenbeek"]) == before


def test_a_reversal_lost_to_a_concurrent_one_is_409(app, site, base, monkeypatch):
    """Two reversals racing both pass the check; the database's unique key refuses the second."""
    def raced(*_args, **_kwargs):
        raise IntegrityError("INSERT INTO revenue_entries", {}, Exception("unique reverses_id"))

    monkeypatch.setattr(revenue_api, "reverse_entry", raced)
    entry_id = base.owned["entry"]["molenbeek"][0]
    molenbeek, auth = manager_on(site)
    response = molenbeek.post(f"/api/v1/revenue/{entry_id}/reverse", headers=auth, json={})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_reversed"


# --- who ----------------------------------------------------------------------------------------


def test_staff_sees_no_money_in_the_api_and_changes_nothing(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    entry_id = base.owned["entry"]["molenbeek"][0]
    before = ledger_state(app, molenbeek_id)
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    responses = [
        molenbeek.get("/api/v1/revenue", headers=auth),
        molenbeek.post("/api/v1/revenue", headers=auth, json=body()),
        molenbeek.get(f"/api/v1/revenue/{entry_id}", headers=auth),
        molenbeek.post(f"/api/v1/revenue/{entry_id}/reverse", headers=auth, json={}),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert all("desk rental" not in r.get_data(as_text=True) for r in responses)
    assert ledger_state(app, molenbeek_id) == before


def test_anonymous_callers_get_401(site, base):
    molenbeek = site("molenbeek")
    assert molenbeek.get("/api/v1/revenue").status_code == 401
    assert molenbeek.post("/api/v1/revenue", json=body()).status_code == 401


def test_the_revenue_api_exists_on_campus_sites_only(site, base):
    for subdomain in ("hq", "partners", None):
        client = site(subdomain)
        assert client.get("/api/v1/revenue").status_code == 404, subdomain


# --- cost ---------------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_entries(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    molenbeek, auth = manager_on(site)
    with app.app_context():
        engine = db.engine

    def measure() -> int:
        with count_queries(engine) as statements:
            response = molenbeek.get("/api/v1/revenue?per_page=100", headers=auth)
        assert response.status_code == 200
        return len(statements)

    add_entries(app, molenbeek_id, [(date(2026, 9, d), RevenueStream.OTHER, 100 * d, "EUR")
                                    for d in range(1, 4)])
    before = measure()
    ids = add_entries(app, molenbeek_id, [(date(2026, 10, d), RevenueStream.TRAINING, 1000, "EUR")
                                          for d in range(1, 6)])
    reverse_ids = ids[:2]
    for entry_id in reverse_ids:  # reversed entries and their reversals: same cost
        reversal = molenbeek.post(f"/api/v1/revenue/{entry_id}/reverse", headers=auth)
        assert reversal.status_code == 201
    listing = molenbeek.get("/api/v1/revenue?per_page=100", headers=auth).get_json()
    assert listing["total"] == 1 + 3 + 5 + 2
    assert {i["id"] for i in listing["items"] if i["reversed"]} == set(reverse_ids)
    assert measure() == before
