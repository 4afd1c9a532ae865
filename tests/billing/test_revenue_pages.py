"""The campus's revenue pages: the year from the rollups, drill-down, manual entries, reversals,
CSV export, the dashboard panel; staff see no money anywhere."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from billing.ledger.models import EntrySource, RevenueEntry, RevenueRollup, RevenueStream
from billing.ledger.services import month_of, record_entry
from core.extensions import db
from core.money import format_money
from tenants.scoping import campus_scope
from tests.billing.test_revenue_api import (
    add_entries,
    campus_today,
    ledger_state,
    set_currency,
    stored,
    user_id,
)
from tests.support.data import HQ, MARKERS, manager, staff
from tests.support.queries import count_queries

LOCALE = "fr_BE"  # Molenbeek's default locale: how its pages write money


def money(minor: int, currency: str = "EUR") -> str:
    return format_money(minor, currency, LOCALE)


def signed_in(site, email: str, campus: str = "molenbeek"):
    client = site(campus)
    assert client.sign_in(email).status_code == 302
    return client


def cell_text(page: str, key: str) -> str:
    """The text of the figure linked as `data-cell="<key>"` on the year page, tags removed."""
    match = re.search(rf'data-cell="{re.escape(key)}">(.*?)</a>', page, re.S)
    assert match, f"no cell {key}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def panel(page: str) -> str:
    match = re.search(r'<section class="card stat" id="revenue".*?</section>', page, re.S)
    assert match, "no revenue panel"
    return match.group(0)


def rollup_sums(app, campus_id: int, year: int) -> dict[tuple[str, str], tuple[int, int]]:
    """(YYYY-MM, stream) → (amount, EUR) summed over currencies, straight from the rollups."""
    with app.app_context(), campus_scope(campus_id, db.session):
        rows = db.session.execute(
            select(RevenueRollup.month, RevenueRollup.stream,
                   func.sum(RevenueRollup.amount_minor), func.sum(RevenueRollup.amount_eur_minor))
            .where(RevenueRollup.month >= date(year, 1, 1),
                   RevenueRollup.month <= date(year, 12, 1))
            .group_by(RevenueRollup.month, RevenueRollup.stream)).all()
    return {(m.strftime("%Y-%m"), RevenueStream(s).value): (int(a), int(e)) for m, s, a, e in rows}


# --- the year -----------------------------------------------------------------------------------


def test_year_page_shows_each_month_and_stream_as_the_rollups_say(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    add_entries(app, molenbeek_id, [
        (date(2026, 1, 15), RevenueStream.TRAINING, 250000, "EUR"),
        (date(2026, 1, 20), RevenueStream.TRAINING, -5000, "EUR"),
        (date(2026, 3, 2), RevenueStream.SPONSORSHIP, 1000000, "EUR"),
        (date(2026, 11, 5), RevenueStream.COWORKING, 3000, "EUR"),
        (date(2025, 12, 31), RevenueStream.EVENTS, 777, "EUR"),  # another year
    ])
    page = signed_in(site, manager("molenbeek")).get("/revenue?year=2026").get_data(as_text=True)
    sums = rollup_sums(app, molenbeek_id, 2026)
    assert sums[("2026-01", "training")] == (245000, 245000)
    for (month, stream), (amount, _eur) in sums.items():
        assert money(amount) in cell_text(page, f"{month}/{stream}")
    assert money(245000) in cell_text(page, "2026-01/total")
    assert money(12000 + 3000) in cell_text(page, "2026-11/total")
    assert money(245000) in cell_text(page, "2026/training")
    assert money(245000 + 1000000 + 15000) in cell_text(page, "2026/total")
    assert 'data-cell="2026-02/training"' not in page  # an empty cell links nowhere
    assert money(777) not in page and MARKERS["antwerp"] not in page


def test_year_page_reads_the_rollups_not_the_entries(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        db.session.execute(update(RevenueRollup).where(
            RevenueRollup.month == date(2026, 11, 1),
            RevenueRollup.stream == RevenueStream.COWORKING).values(amount_minor=98765,
                                                                    amount_eur_minor=98765))
        db.session.commit()
    page = signed_in(site, manager("molenbeek")).get("/revenue?year=2026").get_data(as_text=True)
    assert money(98765) in cell_text(page, "2026-11/coworking")


def test_mad_campus_shows_dirhams_and_their_euro_value(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    set_currency(app, molenbeek_id, "MAD")
    add_entries(app, molenbeek_id, [(date(2026, 11, 2), RevenueStream.TRAINING, 150000, "MAD")])
    page = signed_in(site, manager("molenbeek")).get("/revenue?year=2026").get_data(as_text=True)
    training = cell_text(page, "2026-11/training")
    assert money(150000, "MAD") in training and money(13825) in training
    # The month also holds the EUR entry of the base data: both currencies, one EUR total.
    total = cell_text(page, "2026-11/total")
    assert money(150000, "MAD") in total and money(12000) in total
    assert money(13825 + 12000) in total


def test_year_defaults_to_this_year_at_the_campus_and_offers_a_selector(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    page = molenbeek.get("/revenue").get_data(as_text=True)
    this_year = campus_today().year
    assert f'<option value="{this_year}" selected>' in page
    add_entries(app, base.campus_ids["molenbeek"],
                [(date(2021, 6, 1), RevenueStream.OTHER, 100, "EUR")])
    page = molenbeek.get("/revenue").get_data(as_text=True)
    assert '<option value="2021">' in page and '<option value="2023">' in page


@pytest.mark.parametrize("query", ["year=abc", "year=1999", "year=99999"])
def test_a_bad_year_is_422(site, base, query):
    response = signed_in(site, manager("molenbeek")).get(f"/revenue?{query}")
    assert response.status_code == 422
    assert "year" in response.get_data(as_text=True)


def test_year_without_revenue_says_what_to_do(site, base):
    page = signed_in(site, manager("molenbeek")).get("/revenue?year=2024").get_data(as_text=True)
    assert "No revenue recorded in 2024" in page
    assert 'href="/revenue/entries/new"' in page
    assert "<svg" not in page


def test_chart_is_inline_accessible_svg_with_a_bar_per_month(app, site, base):
    add_entries(app, base.campus_ids["molenbeek"],
                [(date(2026, 2, 1), RevenueStream.OTHER, -4000, "EUR")])
    page = signed_in(site, manager("molenbeek")).get("/revenue?year=2026").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="revenue-chart-title revenue-chart-desc"' in svg
    assert '<title id="revenue-chart-title">' in svg and '<desc id="revenue-chart-desc">' in svg
    assert svg.count("<rect") == 12
    assert money(12000) in svg and money(-4000) in svg  # November's total, February's refund
    assert inline_scripts(page) == [] and "<script" not in svg
    assert "<image" not in svg and "href=" not in svg
    heights = [float(h) for h in re.findall(r'<rect[^>]*height="([\d.]+)"', svg)]
    assert heights.count(0.0) == 10 and max(heights) > 0


def inline_scripts(page: str) -> list[str]:
    """`<script>` elements carrying code of their own (the CSP would block them)."""
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)


# --- drill-down ---------------------------------------------------------------------------------


def test_a_cell_drills_down_to_its_entries(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    ids = add_entries(app, molenbeek_id, [
        (date(2026, 11, 12), RevenueStream.COWORKING, 3000, "EUR"),
        (date(2026, 11, 12), RevenueStream.EVENTS, 4000, "EUR"),
        (date(2026, 10, 12), RevenueStream.COWORKING, 5000, "EUR"),
    ])
    molenbeek = signed_in(site, manager("molenbeek"))
    year = molenbeek.get("/revenue?year=2026").get_data(as_text=True)
    assert 'href="/revenue/entries?month=2026-11&amp;stream=coworking"' in year
    page = molenbeek.get("/revenue/entries?month=2026-11&stream=coworking").get_data(as_text=True)
    assert f'id="entry-{ids[0]}"' in page
    assert f'id="entry-{base.owned["entry"]["molenbeek"][0]}"' in page
    assert f'id="entry-{ids[1]}"' not in page and f'id="entry-{ids[2]}"' not in page
    assert MARKERS["molenbeek"] in page and MARKERS["antwerp"] not in page
    whole_year = molenbeek.get("/revenue/entries?year=2026&stream=coworking").get_data(as_text=True)
    assert f'id="entry-{ids[2]}"' in whole_year and f'id="entry-{ids[1]}"' not in whole_year


@pytest.mark.parametrize("query", ["month=2026-13", "month=nov", "stream=catering", "page=0"])
def test_bad_drill_down_filters_are_422(site, base, query):
    response = signed_in(site, manager("molenbeek")).get(f"/revenue/entries?{query}")
    assert response.status_code == 422


def test_entries_show_reversed_and_reversal_markers(app, site, base):
    entry_id = base.owned["entry"]["molenbeek"][0]
    molenbeek = signed_in(site, manager("molenbeek"))
    assert molenbeek.post(f"/revenue/entries/{entry_id}/reverse",
                          data={"memo": "Wrong desk"}).status_code == 302
    page = molenbeek.get("/revenue/entries?month=2026-11").get_data(as_text=True)
    rows = dict(re.findall(r'<tr id="entry-(\d+)">(.*?)</tr>', page, re.S))
    assert len(rows) == 2
    original = rows[str(entry_id)]
    reversal = next(row for key, row in rows.items() if key != str(entry_id))
    assert 'data-marker="reversed"' in original and "/reverse" not in original
    assert 'data-marker="reversal"' in reversal and f'href="#entry-{entry_id}"' in reversal
    assert "/reverse" not in reversal  # a reversal cannot be reversed
    assert money(-12000) in reversal and "Wrong desk" in reversal


def test_entries_page_paginates(app, site, base):
    add_entries(app, base.campus_ids["molenbeek"],
                [(date(2026, 8, 1 + i % 28), RevenueStream.OTHER, 100 + i, "EUR")
                 for i in range(30)])
    molenbeek = signed_in(site, manager("molenbeek"))
    first = molenbeek.get("/revenue/entries?month=2026-08").get_data(as_text=True)
    second = molenbeek.get("/revenue/entries?month=2026-08&page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert first.count('<tr id="entry-') == 25 and second.count('<tr id="entry-') == 5
    assert "month=2026-08" in re.search(r'<nav class="pagination".*?</nav>', first, re.S).group(0)


def test_empty_period_says_what_to_do(site, base):
    page = signed_in(site, manager("molenbeek")).get("/revenue/entries?month=2025-02")
    assert "No entry for this period." in page.get_data(as_text=True)


def test_entries_page_query_count_does_not_grow_with_entries(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    molenbeek = signed_in(site, manager("molenbeek"))
    with app.app_context():
        engine = db.engine

    def measure() -> int:
        with count_queries(engine) as statements:
            response = molenbeek.get("/revenue/entries?year=2026")
        assert response.status_code == 200
        return len(statements)

    first = add_entries(app, molenbeek_id, [(date(2026, 7, d), RevenueStream.EVENTS, 500, "EUR")
                                            for d in range(1, 4)])
    # The baseline already holds a reversal and an author, so every query kind runs once.
    assert molenbeek.post(f"/revenue/entries/{first[0]}/reverse").status_code == 302
    before = measure()
    ids = add_entries(app, molenbeek_id, [(date(2026, 6, d), RevenueStream.OTHER, 700, "EUR")
                                          for d in range(1, 6)])
    for entry_id in ids[:2]:  # reversed entries, reversals and another author: same cost
        assert molenbeek.post(f"/revenue/entries/{entry_id}/reverse").status_code == 302
    hq = signed_in(site, HQ)
    assert hq.post("/revenue/entries/new", data={"occurred_on": "2026-06-09", "stream": "other",
                                                 "amount": "9", "memo": "By HQ"}).status_code == 302
    assert measure() == before


# --- manual entries -----------------------------------------------------------------------------


def test_manager_adds_an_entry_typed_in_the_campus_currency(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    molenbeek = signed_in(site, manager("molenbeek"))
    form = molenbeek.get("/revenue/entries/new").get_data(as_text=True)
    assert 'name="csrf_token"' in form and "Amount (EUR)" in form
    assert f'value="{campus_today().isoformat()}"' in form
    response = molenbeek.post("/revenue/entries/new", data={
        "occurred_on": "2026-11-04", "stream": "training", "amount": "1 234,56",
        "memo": "  Evening  course, paid in cash "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/revenue/entries?month=2026-11&stream=training")
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        entry = db.session.scalar(select(RevenueEntry).where(
            RevenueEntry.stream == RevenueStream.TRAINING))
    assert (entry.amount_minor, entry.currency, entry.amount_eur_minor) == (123456, "EUR", 123456)
    assert entry.memo == "Evening course, paid in cash"
    assert entry.created_by_id == user_id(app, manager("molenbeek"))
    listing = molenbeek.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Recorded entry #{entry.id}" in listing and money(123456) in listing


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount": "12.345"}, "amount"),
    ({"amount": "douze"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": ""}, "amount"),
    ({"stream": ""}, "stream"),
    ({"stream": "catering"}, "stream"),
    ({"occurred_on": ""}, "occurred_on"),
    ({"occurred_on": "31/11/2026"}, "occurred_on"),
    ({"memo": "  "}, "memo"),
])
def test_invalid_form_is_422_with_the_error_by_its_field_keeping_the_input(app, site, base,
                                                                          changes, field):
    molenbeek_id = base.campus_ids["molenbeek"]
    before = ledger_state(app, molenbeek_id)
    data = {"occurred_on": "2026-11-04", "stream": "events", "amount": "45,50",
            "memo": "Kept memo text"}
    data.update(changes)
    response = signed_in(site, manager("molenbeek")).post("/revenue/entries/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'aria-describedby="{field}-error' in page and f'id="{field}-error"' in page
    for name in ("memo", "amount", "occurred_on"):
        if name != field and data[name]:
            assert f'value="{data[name]}"' in page  # nothing typed is lost
    assert ledger_state(app, molenbeek_id) == before


def test_form_refuses_a_future_date_and_a_day_without_rate(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    molenbeek = signed_in(site, manager("molenbeek"))
    data = {"stream": "events", "amount": "45", "memo": "Door"}
    tomorrow = (campus_today() + timedelta(days=1)).isoformat()
    future = molenbeek.post("/revenue/entries/new", data={**data, "occurred_on": tomorrow})
    assert future.status_code == 422 and 'id="occurred_on-error"' in future.get_data(as_text=True)
    set_currency(app, molenbeek_id, "MAD")
    before = ledger_state(app, molenbeek_id)
    no_rate = molenbeek.post("/revenue/entries/new", data={**data, "occurred_on": "2023-05-01"})
    assert no_rate.status_code == 422
    page = no_rate.get_data(as_text=True)
    assert "No MAD exchange rate on or before 2023-05-01" in page
    assert 'id="occurred_on-error"' in page and "Amount (MAD)" in page
    assert ledger_state(app, molenbeek_id) == before


# --- reversing ----------------------------------------------------------------------------------


def test_reversing_asks_for_confirmation_then_reverses_once(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    entry_id = base.owned["entry"]["molenbeek"][0]
    molenbeek = signed_in(site, manager("molenbeek"))
    listing = molenbeek.get("/revenue/entries?month=2026-11").get_data(as_text=True)
    assert f'href="/revenue/entries/{entry_id}/reverse"' in listing  # a link, not the action
    confirm = molenbeek.get(f"/revenue/entries/{entry_id}/reverse").get_data(as_text=True)
    action = f'<form method="post" action="/revenue/entries/{entry_id}/reverse">'
    assert action in confirm
    assert 'name="csrf_token"' in confirm.split(action)[1].split("</form>")[0]
    assert money(-12000) in confirm and MARKERS["molenbeek"] in confirm
    assert ledger_state(app, molenbeek_id)[0] == 1  # looking changed nothing

    done = molenbeek.post(f"/revenue/entries/{entry_id}/reverse", data={"memo": "Duplicate"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/revenue/entries?month=2026-11&stream=coworking")
    assert "Reversed entry" in molenbeek.get(done.headers["Location"]).get_data(as_text=True)
    after = ledger_state(app, molenbeek_id)
    assert after[0] == 2

    again = molenbeek.post(f"/revenue/entries/{entry_id}/reverse", data={"memo": "Again"})
    assert again.status_code == 409
    assert "already reversed" in again.get_data(as_text=True)
    assert ledger_state(app, molenbeek_id) == after
    confirm = molenbeek.get(f"/revenue/entries/{entry_id}/reverse").get_data(as_text=True)
    assert "already reversed" in confirm and action not in confirm


def test_reversal_reason_too_long_is_422_and_kept(app, site, base):
    entry_id = base.owned["entry"]["molenbeek"][0]
    before = ledger_state(app, base.campus_ids["molenbeek"])
    response = signed_in(site, manager("molenbeek")).post(
        f"/revenue/entries/{entry_id}/reverse", data={"memo": "y" * 501})
    assert response.status_code == 422
    assert 'id="memo-error"' in response.get_data(as_text=True)
    assert ledger_state(app, base.campus_ids["molenbeek"]) == before


def test_another_campus_entry_cannot_be_reversed_from_here(app, site, base):
    antwerp_entry = base.owned["entry"]["antwerp"][0]
    before = ledger_state(app, base.campus_ids["antwerp"])
    for email in (manager("molenbeek"), HQ):
        molenbeek = signed_in(site, email)
        assert molenbeek.get(f"/revenue/entries/{antwerp_entry}/reverse").status_code == 404
        response = molenbeek.post(f"/revenue/entries/{antwerp_entry}/reverse", data={})
        assert response.status_code == 404
        assert MARKERS["antwerp"] not in response.get_data(as_text=True)
    assert ledger_state(app, base.campus_ids["antwerp"]) == before


def test_the_reverse_form_needs_a_csrf_token_when_csrf_is_on(app, site, base):
    entry_id = base.owned["entry"]["molenbeek"][0]
    molenbeek = signed_in(site, manager("molenbeek"))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = molenbeek.post(f"/revenue/entries/{entry_id}/reverse", data={})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert stored(app, base.campus_ids["molenbeek"], entry_id) is not None
    assert ledger_state(app, base.campus_ids["molenbeek"])[0] == 1


# --- export -------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_csv_export_lists_the_year_with_decimal_amounts(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    ids = add_entries(app, molenbeek_id, [
        (date(2026, 2, 1), RevenueStream.EVENTS, -1234, "EUR"),
        (date(2026, 12, 31), RevenueStream.TRAINING, 5, "EUR"),
        (date(2025, 12, 31), RevenueStream.TRAINING, 999, "EUR"),  # another year
    ])
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        formula = record_entry(occurred_on=date(2026, 3, 3), stream=RevenueStream.OTHER,
                               amount_minor=100, currency="EUR", source=EntrySource.MANUAL,
                               memo="=HYPERLINK(\"http://evil\")").id
        db.session.commit()
    response = signed_in(site, manager("molenbeek")).get("/revenue/export.csv?year=2026")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="revenue-molenbeek-2026.csv"')
    rows = read_csv(response)
    assert rows[0] == ["id", "date", "stream", "amount", "currency", "amount_eur", "source",
                       "memo", "reverses_id"]
    base_entry = base.owned["entry"]["molenbeek"][0]
    assert rows[1:] == [
        [str(ids[0]), "2026-02-01", "events", "-12.34", "EUR", "-12.34", "manual", "seeded 0", ""],
        [str(formula), "2026-03-03", "other", "1.00", "EUR", "1.00", "manual",
         "'=HYPERLINK(\"http://evil\")", ""],
        [str(base_entry), "2026-11-03", "coworking", "120.00", "EUR", "120.00", "manual",
         f"{MARKERS['molenbeek']} desk rental", ""],
        [str(ids[1]), "2026-12-31", "training", "0.05", "EUR", "0.05", "manual", "seeded 1", ""],
    ]
    assert MARKERS["antwerp"] not in response.get_data(as_text=True)


def test_csv_export_of_a_mad_campus_with_a_reversal(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    set_currency(app, molenbeek_id, "MAD")
    [entry_id] = add_entries(app, molenbeek_id,
                             [(date(2026, 11, 2), RevenueStream.TRAINING, 150000, "MAD")])
    molenbeek = signed_in(site, manager("molenbeek"))
    assert molenbeek.post(f"/revenue/entries/{entry_id}/reverse").status_code == 302
    rows = read_csv(molenbeek.get("/revenue/export.csv?year=2026"))
    mad = [row for row in rows[1:] if row[4] == "MAD"]
    assert [row[1:6] for row in mad] == [
        ["2026-11-02", "training", "1500.00", "MAD", "138.25"],
        ["2026-11-02", "training", "-1500.00", "MAD", "-138.25"],
    ]
    assert mad[1][8] == str(entry_id)


def test_csv_export_defaults_to_this_year_and_refuses_a_bad_one(site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    this_year = campus_today().year
    response = molenbeek.get("/revenue/export.csv")
    assert f'filename="revenue-molenbeek-{this_year}.csv"' in response.headers[
        "Content-Disposition"]
    assert molenbeek.get("/revenue/export.csv?year=twenty").status_code == 422


# --- who ----------------------------------------------------------------------------------------


def test_staff_sees_no_money_screens(app, site, base):
    entry_id = base.owned["entry"]["molenbeek"][0]
    before = ledger_state(app, base.campus_ids["molenbeek"])
    molenbeek = signed_in(site, staff("molenbeek"))
    responses = [
        molenbeek.get("/revenue"),
        molenbeek.get("/revenue/entries?month=2026-11"),
        molenbeek.get("/revenue/entries/new"),
        molenbeek.post("/revenue/entries/new", data={"occurred_on": "2026-11-04",
                                                     "stream": "events", "amount": "5",
                                                     "memo": "Staff"}),
        molenbeek.get(f"/revenue/entries/{entry_id}/reverse"),
        molenbeek.post(f"/revenue/entries/{entry_id}/reverse"),
        molenbeek.get("/revenue/export.csv?year=2026"),
    ]
    assert [r.status_code for r in responses] == [403] * 7
    assert all("desk rental" not in r.get_data(as_text=True) for r in responses)
    assert ledger_state(app, base.campus_ids["molenbeek"]) == before
    home = molenbeek.get("/").get_data(as_text=True)
    assert 'href="/revenue"' not in home and 'id="revenue"' not in home


def test_managers_and_hq_see_the_revenue_nav_item(site, base):
    for email in (manager("molenbeek"), HQ):
        home = signed_in(site, email).get("/").get_data(as_text=True)
        nav = re.search(r'<nav aria-label="[^"]*">.*?</nav>', home, re.S).group(0)
        assert 'href="/revenue"' in nav, email
    hq_home = signed_in(site, HQ, "hq").get("/").get_data(as_text=True)
    assert 'href="/revenue"' not in hq_home  # a campus page: not on the HQ site


def test_anonymous_visitors_are_sent_to_sign_in(site, base):
    response = site("molenbeek").get("/revenue")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- dashboard panel ----------------------------------------------------------------------------


def test_dashboard_panel_shows_this_month_and_the_year_to_date(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    today = campus_today()
    add_entries(app, molenbeek_id, [
        (today, RevenueStream.EVENTS, 4321, "EUR"),
        (date(today.year, 1, 1), RevenueStream.TRAINING, 100000, "EUR"),
        (date(today.year - 1, 12, 31), RevenueStream.TRAINING, 55555, "EUR"),  # last year
    ])
    sums = rollup_sums(app, molenbeek_id, today.year)
    this_month = sum(a for (m, _s), (a, _e) in sums.items() if m == today.strftime("%Y-%m"))
    year_to_date = sum(a for (m, _s), (a, _e) in sums.items() if m <= today.strftime("%Y-%m"))
    assert this_month >= 4321 and year_to_date >= this_month + 100000
    box = panel(signed_in(site, manager("molenbeek")).get("/").get_data(as_text=True))
    assert money(this_month) in box and money(year_to_date) in box
    assert money(year_to_date + 55555) not in box
    assert 'href="/revenue"' in box


def test_dashboard_panel_of_a_mad_campus_adds_the_euro_value(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    set_currency(app, molenbeek_id, "MAD")
    today = campus_today()
    add_entries(app, molenbeek_id, [(today, RevenueStream.TRAINING, 108500, "MAD")])
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        eur = db.session.scalar(select(func.sum(RevenueRollup.amount_eur_minor)).where(
            RevenueRollup.month == month_of(today)))
    box = panel(signed_in(site, manager("molenbeek")).get("/").get_data(as_text=True))
    assert money(108500, "MAD") in box and money(int(eur)) in box


def test_hq_on_a_campus_sees_the_panel_of_that_campus_only(app, site, base):
    add_entries(app, base.campus_ids["antwerp"],
                [(campus_today(), RevenueStream.EVENTS, 31337, "EUR")])
    molenbeek_box = panel(signed_in(site, HQ).get("/").get_data(as_text=True))
    assert money(31337) not in molenbeek_box
    antwerp_page = signed_in(site, HQ, "antwerp").get("/").get_data(as_text=True)
    assert 'id="revenue"' in antwerp_page


def test_year_page_and_panel_query_counts_do_not_grow_with_entries(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    molenbeek = signed_in(site, manager("molenbeek"))
    with app.app_context():
        engine = db.engine

    def measure(path: str) -> int:
        with count_queries(engine) as statements:
            response = molenbeek.get(path)
        assert response.status_code == 200
        return len(statements)

    before = (measure("/revenue?year=2026"), measure("/"))
    add_entries(app, molenbeek_id, [(date(2026, m, 1 + m), stream, 100 * m, "EUR")
                                    for m in range(1, 12) for stream in RevenueStream])
    assert (measure("/revenue?year=2026"), measure("/")) == before
