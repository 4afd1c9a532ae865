"""HQ reports kept per worker until the ledger changes (billing/reports/cache.py): a kept report
is served without its grouped query, and any change to the ledger is seen at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import update

from billing.ledger.models import RevenueRollup
from billing.ledger.services import rebuild_rollups
from billing.reports.cache import _Reports
from core.extensions import db
from tenants.scoping import all_campuses, campus_scope
from tests.billing.test_reports import (  # noqa: F401 (the ledger fixture)
    TOTAL_2030,
    YEAR,
    Stream,
    add,
    get,
    hq_api,
    ledger_fixture,
)
from tests.support.queries import count_queries


@pytest.fixture(name="keeping")
def keeping_fixture(app) -> Iterator[None]:
    """The app keeps reports (the suite's app does not, see tests/conftest.py)."""
    app.config["REPORT_CACHE_ROWS"] = 10_000
    try:
        yield
    finally:
        app.config["REPORT_CACHE_ROWS"] = 0
        app.extensions.pop("campusflow.report_cache", None)


def _grouped(statements: list[str]) -> list[str]:
    return [s for s in statements if "revenue_rollups" in s and "GROUP BY" in s.upper()]


def test_a_kept_report_is_served_without_its_grouped_query(app, site, ledger, keeping):
    client = hq_api(site)
    with app.app_context(), count_queries(db.engine) as first:
        body = get(client, YEAR).get_json()
    with app.app_context(), count_queries(db.engine) as second:
        again = get(client, YEAR).get_json()
    assert _grouped(first) and not _grouped(second)
    assert again == body and body["total_eur_minor"] == TOTAL_2030


def test_a_new_ledger_entry_is_in_the_next_report(app, site, ledger, keeping):
    client = hq_api(site)
    assert get(client, YEAR).get_json()["total_eur_minor"] == TOTAL_2030
    with app.app_context():
        add(ledger.campus_ids["molenbeek"], date(2030, 5, 5), Stream.OTHER, 1234)
        db.session.commit()
    assert get(client, YEAR).get_json()["total_eur_minor"] == TOTAL_2030 + 1234


def test_a_rollup_changed_behind_the_ledger_is_seen_at_once(app, site, ledger, keeping):
    """A repair that changes an amount and nothing else (same rows, same entry counts)."""
    client = hq_api(site)
    assert get(client, YEAR).get_json()["total_eur_minor"] == TOTAL_2030
    molenbeek = ledger.campus_ids["molenbeek"]
    with app.app_context(), campus_scope(molenbeek, db.session):
        db.session.execute(update(RevenueRollup)
                           .where(RevenueRollup.month == date(2030, 1, 1))
                           .values(amount_eur_minor=RevenueRollup.amount_eur_minor + 1))
        db.session.commit()
    assert get(client, YEAR).get_json()["total_eur_minor"] == TOTAL_2030 + 1
    with app.app_context(), campus_scope(molenbeek, db.session):
        rebuild_rollups(molenbeek)
        db.session.commit()
    assert get(client, YEAR).get_json()["total_eur_minor"] == TOTAL_2030


def test_the_hq_page_uses_the_kept_reports_and_sees_new_entries(app, site, ledger, keeping,
                                                                 base):
    from tests.support.data import HQ

    client = site("hq")
    client.sign_in(HQ)
    page = "/reports/revenue?from=2030-01&to=2030-12"
    assert client.get(page).status_code == 200
    with app.app_context(), count_queries(db.engine) as statements:
        assert client.get(page).status_code == 200
    assert not _grouped(statements)
    with app.app_context():
        add(ledger.campus_ids["antwerp"], date(2030, 7, 1), Stream.OTHER, 777_777)
        db.session.commit()
    assert "7,777.77" in client.get(page).get_data(as_text=True)


def test_reports_are_kept_within_the_row_budget_least_recently_used_first():
    store = _Reports(budget=10)
    store.put("a", "A", 4)
    store.put("b", "B", 4)
    assert store.get("a") == "A"  # now the most recently used
    store.put("c", "C", 4)  # over budget: "b" goes
    assert store.get("b") is None and store.get("a") == "A" and store.get("c") == "C"
    store.put("huge", "H", 11)  # larger than the whole budget: never kept
    assert store.get("huge") is None and store.rows == 8


def test_the_version_query_reads_only_rollups_the_scope_allows(app, ledger, keeping):
    from billing.reports.cache import ledger_version

    with app.app_context():
        with all_campuses(db.session):
            everything = ledger_version()
        with campus_scope(ledger.campus_ids["antwerp"], db.session):
            one_campus = ledger_version()
    assert everything[0] > one_campus[0] > 0
