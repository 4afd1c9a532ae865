"""HQ's consolidated revenue: the service and `GET /api/v1/reports/revenue` on the HQ site.

The ledger of these tests lives in 2029-2030 (far from the base data's November 2026 entries),
with a Moroccan campus whose MAD revenue counts at its EUR value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.ledger.models import EntrySource, RevenueEntry, RevenueRollup, RevenueStream
from billing.ledger.services import get_entry, record_entry, reverse_entry
from billing.reports.services import consolidated, revenue_report
from core.errors import InvalidInput
from core.extensions import db
from tenants.campuses.services import create_campus
from tenants.scoping import all_campuses, campus_scope
from tests.support.data import HQ, PARTNER_CONTACT, manager
from tests.support.queries import count_queries

Stream = RevenueStream
API = "/api/v1/reports/revenue"
YEAR = "from=2030-01&to=2030-12"

# The 2030 ledger in EUR cents, per campus, month and stream (the reversed June event nets to 0).
EXPECTED_2030 = [
    {"campus": "antwerp", "month": "2030-06", "stream": "events", "amount_eur_minor": 0},
    {"campus": "antwerp", "month": "2030-06", "stream": "sponsorship", "amount_eur_minor": 200000},
    {"campus": "casablanca", "month": "2030-11", "stream": "training", "amount_eur_minor": 13825},
    {"campus": "molenbeek", "month": "2030-01", "stream": "training", "amount_eur_minor": 100000},
    {"campus": "molenbeek", "month": "2030-03", "stream": "events", "amount_eur_minor": 25050},
    {"campus": "molenbeek", "month": "2030-03", "stream": "training", "amount_eur_minor": 50000},
]
TOTAL_2030 = 388875
TOTAL_2029 = 49900


@dataclass(frozen=True)
class Ledger:
    campus_ids: dict[str, int]


def add(campus_id: int, day: date, stream: Stream, amount_minor: int, currency: str = "EUR"):
    with campus_scope(campus_id, db.session):
        return record_entry(occurred_on=day, stream=stream, amount_minor=amount_minor,
                            currency=currency, source=EntrySource.MANUAL)


def make_ledger(app, base) -> Ledger:
    """Entries at molenbeek, antwerp and a Moroccan campus in 2029, 2030 and 2031."""
    with app.app_context():
        casablanca = create_campus(slug="casablanca", name="Casablanca", city="Casablanca",
                                   country="MA", currency="MAD", timezone="Africa/Casablanca",
                                   locale="fr_MA", status="open")
        ids = {**base.campus_ids, "casablanca": casablanca.id}
        molenbeek, antwerp = ids["molenbeek"], ids["antwerp"]
        add(molenbeek, date(2030, 1, 15), Stream.TRAINING, 100000)
        add(molenbeek, date(2030, 3, 2), Stream.TRAINING, 50000)
        add(molenbeek, date(2030, 3, 20), Stream.EVENTS, 25050)
        add(molenbeek, date(2029, 3, 10), Stream.TRAINING, 40000)
        add(antwerp, date(2030, 6, 1), Stream.SPONSORSHIP, 200000)
        add(antwerp, date(2029, 11, 5), Stream.COWORKING, 9900)
        add(antwerp, date(2031, 1, 5), Stream.TRAINING, 30000)  # outside every period asked
        refunded = add(antwerp, date(2030, 6, 10), Stream.EVENTS, 5000)
        with campus_scope(antwerp, db.session):
            reverse_entry(get_entry(refunded.id))
        # 1,500.00 MAD at the base data's 10.85 MAD per euro = 138.25 EUR.
        add(ids["casablanca"], date(2030, 11, 4), Stream.TRAINING, 150000, "MAD")
        db.session.commit()
    return Ledger(ids)


@pytest.fixture(name="ledger")
def ledger_fixture(app, base) -> Ledger:
    return make_ledger(app, base)


def hq_api(site):
    client = site("hq")
    client.headers = {"Authorization": f"Bearer {client.token(HQ)}"}
    return client


def get(client, query: str = ""):
    return client.get(f"{API}?{query}" if query else API, headers=client.headers)


def raw_entry_sum(app, start: date, end: date) -> int:
    """The EUR sum straight from the entries (what the rollups must add up to)."""
    with app.app_context(), all_campuses(db.session):
        return int(db.session.scalar(
            select(func.coalesce(func.sum(RevenueEntry.amount_eur_minor), 0))
            .where(RevenueEntry.occurred_on >= start, RevenueEntry.occurred_on <= end)))


# --- the JSON shape -------------------------------------------------------------------------


def test_full_grouping_has_exactly_the_issue_shape(site, ledger):
    response = get(hq_api(site), YEAR + "&group_by=campus,month,stream")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"currency", "rows", "total_eur_minor"}
    assert body["currency"] == "EUR"
    assert body["rows"] == EXPECTED_2030
    assert all(isinstance(row["amount_eur_minor"], int) for row in body["rows"])
    assert body["total_eur_minor"] == TOTAL_2030


def test_group_by_defaults_to_campus_month_stream(site, ledger):
    assert get(hq_api(site), YEAR).get_json()["rows"] == EXPECTED_2030


@pytest.mark.parametrize(("group_by", "expected"), [
    ("campus", [{"campus": "antwerp", "amount_eur_minor": 200000},
                {"campus": "casablanca", "amount_eur_minor": 13825},
                {"campus": "molenbeek", "amount_eur_minor": 175050}]),
    ("month", [{"month": "2030-01", "amount_eur_minor": 100000},
               {"month": "2030-03", "amount_eur_minor": 75050},
               {"month": "2030-06", "amount_eur_minor": 200000},
               {"month": "2030-11", "amount_eur_minor": 13825}]),
    ("stream", [{"stream": "events", "amount_eur_minor": 25050},
                {"stream": "sponsorship", "amount_eur_minor": 200000},
                {"stream": "training", "amount_eur_minor": 163825}]),
    ("campus,stream", [{"campus": "antwerp", "stream": "events", "amount_eur_minor": 0},
                       {"campus": "antwerp", "stream": "sponsorship", "amount_eur_minor": 200000},
                       {"campus": "casablanca", "stream": "training", "amount_eur_minor": 13825},
                       {"campus": "molenbeek", "stream": "events", "amount_eur_minor": 25050},
                       {"campus": "molenbeek", "stream": "training", "amount_eur_minor": 150000}]),
    ("month,stream", [{"month": "2030-01", "stream": "training", "amount_eur_minor": 100000},
                      {"month": "2030-03", "stream": "events", "amount_eur_minor": 25050},
                      {"month": "2030-03", "stream": "training", "amount_eur_minor": 50000},
                      {"month": "2030-06", "stream": "events", "amount_eur_minor": 0},
                      {"month": "2030-06", "stream": "sponsorship", "amount_eur_minor": 200000},
                      {"month": "2030-11", "stream": "training", "amount_eur_minor": 13825}]),
    ("", [{"amount_eur_minor": TOTAL_2030}]),
])
def test_each_subset_of_keys_groups_and_carries_only_its_keys(site, ledger, group_by, expected):
    body = get(hq_api(site), f"{YEAR}&group_by={group_by}").get_json()
    assert body["rows"] == expected
    assert body["total_eur_minor"] == TOTAL_2030 == sum(r["amount_eur_minor"] for r in expected)


def test_totals_match_the_rows_and_the_raw_entries(app, site, ledger):
    client = hq_api(site)
    for query, start, end in ((YEAR, date(2030, 1, 1), date(2030, 12, 31)),
                              ("from=2029-01&to=2029-12", date(2029, 1, 1), date(2029, 12, 31)),
                              ("from=2026-01&to=2031-12", date(2026, 1, 1), date(2031, 12, 31))):
        body = get(client, query).get_json()
        assert body["total_eur_minor"] == sum(r["amount_eur_minor"] for r in body["rows"])
        assert body["total_eur_minor"] == raw_entry_sum(app, start, end), query
    assert get(client, "from=2029-01&to=2029-12").get_json()["total_eur_minor"] == TOTAL_2029


def test_mad_revenue_counts_at_its_eur_value(site, ledger):
    body = get(hq_api(site), YEAR + "&campus=casablanca&group_by=campus").get_json()
    assert body["rows"] == [{"campus": "casablanca", "amount_eur_minor": 13825}]


def test_filters_by_campuses_and_streams(site, ledger):
    client = hq_api(site)
    body = get(client, YEAR + "&campus=molenbeek,casablanca&stream=training").get_json()
    assert body["rows"] == [row for row in EXPECTED_2030
                            if row["campus"] in ("molenbeek", "casablanca")
                            and row["stream"] == "training"]
    assert body["total_eur_minor"] == 163825
    repeated = get(client, YEAR + "&campus=antwerp&campus=casablanca&group_by=campus").get_json()
    assert [row["campus"] for row in repeated["rows"]] == ["antwerp", "casablanca"]
    months = get(client, "from=2030-03&to=2030-06&group_by=month").get_json()
    assert months["rows"] == [{"month": "2030-03", "amount_eur_minor": 75050},
                              {"month": "2030-06", "amount_eur_minor": 200000}]


def test_an_empty_period_has_no_rows_and_a_zero_total(site, ledger):
    for group_by in ("campus,month,stream", ""):
        body = get(hq_api(site), f"from=2040-01&to=2040-12&group_by={group_by}").get_json()
        assert body == {"currency": "EUR", "rows": [], "total_eur_minor": 0}


def test_period_defaults_to_the_current_calendar_year(app, site, ledger):
    from core.database import utcnow

    year = utcnow().year
    body = get(hq_api(site), "group_by=").get_json()
    expected = raw_entry_sum(app, date(year, 1, 1), date(year, 12, 31))
    assert body["total_eur_minor"] == expected
    assert expected > 0 or year != 2026  # the base data's November 2026 entries count


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "field"), [
    ("group_by=month,campus", "group_by"),
    ("group_by=stream,month", "group_by"),
    ("group_by=campus,region", "group_by"),
    ("from=2030-13", "from"),
    ("from=2030-1", "from"),
    ("to=30-01", "to"),
    ("from=first", "from"),
    ("from=2030-06&to=2030-05", "to"),
    ("campus=molenbeek,atlantis", "campus"),
    ("stream=training,gambling", "stream"),
])
def test_bad_parameters_are_422_naming_the_field(site, ledger, query, field):
    response = get(hq_api(site), query)
    assert response.status_code == 422, query
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error


# --- who may call it ------------------------------------------------------------------------


def test_only_hq_may_call_it(site, ledger):
    hq = site("hq")
    assert hq.get(API).status_code == 401  # anonymous
    manager_token = site("molenbeek").token(manager("molenbeek"))
    refused = hq.get(API, headers={"Authorization": f"Bearer {manager_token}"})
    assert refused.status_code == 401  # a campus token is not valid on hq
    partner_token = site("partners").token(PARTNER_CONTACT)
    assert hq.get(API, headers={"Authorization": f"Bearer {partner_token}"}).status_code == 401
    assert hq.sign_in(manager("molenbeek")).status_code == 200  # sign-in refused on hq
    assert hq.get(API).status_code == 401


def test_campus_hosts_have_no_such_route(site, ledger):
    molenbeek = site("molenbeek")
    for email in (manager("molenbeek"), HQ):
        token = molenbeek.token(email)
        response = molenbeek.get(API, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404, email
        assert "amount_eur_minor" not in response.get_data(as_text=True)


# --- the service ----------------------------------------------------------------------------


def test_service_refuses_keys_out_of_order_and_backwards_periods(app, ledger):
    with app.app_context():
        with pytest.raises(InvalidInput) as order:
            revenue_report(date(2030, 1, 1), date(2030, 12, 1), ("stream", "campus"))
        with pytest.raises(InvalidInput) as backwards:
            revenue_report(date(2030, 12, 1), date(2030, 1, 1))
        with pytest.raises(InvalidInput) as unknown:
            consolidated(date(2030, 1, 1), date(2030, 12, 1), ["nowhere"])
    assert "group_by" in order.value.fields and "to" in backwards.value.fields
    assert "campus" in unknown.value.fields


def test_consolidated_figures_and_the_same_period_last_year(app, ledger):
    with app.app_context():
        figures = consolidated(date(2030, 1, 1), date(2030, 12, 1))
    assert (figures.total_eur_minor, figures.previous_eur_minor) == (TOTAL_2030, TOTAL_2029)
    assert (figures.previous_start, figures.previous_end) == (date(2029, 1, 1), date(2029, 12, 1))
    assert figures.change == Decimal("679.3")  # (388875 - 49900) / 49900
    by_slug = {c.slug: c for c in figures.campuses}
    assert by_slug["antwerp"].total_eur_minor == 200000
    assert by_slug["antwerp"].previous_eur_minor == 9900
    assert by_slug["antwerp"].share == Decimal("51.4")  # 200000 / 388875
    assert by_slug["molenbeek"].share == Decimal("45.0")
    assert by_slug["casablanca"].share == Decimal("3.6")
    assert by_slug["casablanca"].change is None  # nothing a year earlier
    assert by_slug["molenbeek"].by_month[:3] == [100000, 0, 75050]
    assert sum(by_slug["molenbeek"].by_month) == by_slug["molenbeek"].total_eur_minor
    assert [c.slug for c in figures.campuses][:3] == ["antwerp", "molenbeek", "casablanca"]
    months = {m.month: m for m in figures.months}
    assert len(months) == 12
    assert (months[date(2030, 3, 1)].total_eur_minor,
            months[date(2030, 3, 1)].previous_eur_minor) == (75050, 40000)
    assert months[date(2030, 11, 1)].previous_eur_minor == 9900
    streams = {s.stream: s for s in figures.streams_figures}
    assert streams[Stream.TRAINING].total_eur_minor == 163825
    assert streams[Stream.TRAINING].previous_eur_minor == 40000
    assert streams[Stream.COWORKING].total_eur_minor == 0
    assert sum(s.total_eur_minor for s in figures.streams_figures) == TOTAL_2030


def test_consolidated_filters_apply_to_both_years(app, ledger):
    with app.app_context():
        figures = consolidated(date(2030, 1, 1), date(2030, 12, 1), ["antwerp"],
                               [Stream.COWORKING, Stream.SPONSORSHIP])
    assert [c.slug for c in figures.campuses] == ["antwerp"]
    assert (figures.total_eur_minor, figures.previous_eur_minor) == (200000, 9900)
    assert [s.stream for s in figures.streams_figures] == [Stream.COWORKING, Stream.SPONSORSHIP]


# --- it reads the rollups, with a constant number of queries ----------------------------------


def test_the_report_reads_only_the_rollups(app, site, ledger):
    client = hq_api(site)
    with app.app_context(), count_queries(db.engine) as statements:
        assert get(client, YEAR).status_code == 200
    report_sql = [s for s in statements if "revenue_" in s]
    assert report_sql and all("revenue_rollups" in s for s in report_sql)
    assert not any("revenue_entries" in s for s in statements)
    assert all("GROUP BY" in s.upper() for s in report_sql)


def _more_rollups(app, ledger: Ledger, count: int) -> None:
    """`count` more (month, stream) rollup rows at each campus."""
    with app.app_context():
        streams = list(Stream)
        for campus_id in ledger.campus_ids.values():
            for k in range(count):
                add(campus_id, date(2030, 1 + k % 12, 1 + k // 12), streams[k % len(streams)],
                    100 + k)
        db.session.commit()


def test_query_count_does_not_grow_with_the_number_of_rollups(app, site, ledger):
    client = hq_api(site)

    def measure(query: str) -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert get(client, query).status_code == 200
        return len(statements)

    queries = (YEAR, YEAR + "&campus=molenbeek,antwerp&stream=training,events")
    before = [measure(q) for q in queries]
    with app.app_context(), all_campuses(db.session):
        rows_before = db.session.scalar(select(func.count()).select_from(RevenueRollup))
    _more_rollups(app, ledger, 24)
    with app.app_context(), all_campuses(db.session):
        rows_after = db.session.scalar(select(func.count()).select_from(RevenueRollup))
    assert rows_after > rows_before + 30
    assert [measure(q) for q in queries] == before


def test_consolidated_query_count_is_constant(app, ledger):
    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            consolidated(date(2030, 1, 1), date(2030, 12, 1))
        return len(statements)

    before = measure()
    _more_rollups(app, ledger, 30)
    assert measure() == before <= 9
