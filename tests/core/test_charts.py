"""Charts: the geometry of core/charts.py (pure), the SVG macros of templates/_charts.html, and
the pages that show them: the campus dashboard (revenue by month and stream, cohort fill rates),
HQ's home (the network's revenue), the impact funnel on HQ's report and the partner portal, and
the exports of the tables on those pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_percent
from flask import render_template_string
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from billing.impact.services import impact_report
from billing.ledger.models import RevenueRollup, RevenueStream
from billing.portal.services import partner_impact
from core.charts import (
    PALETTE,
    PATTERNS,
    Category,
    LinearScale,
    fill_bars,
    funnel,
    horizontal_bars,
    make_series,
    money_formatter,
    nice_step,
    nice_ticks,
    percent,
    percent_formatter,
    stacked_bars,
)
from core.extensions import db
from core.money import format_money
from tenants.cohorts.models import Cohort, CohortStatus
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.scoping import campus_scope
from tests.billing.test_portal import build_programmes
from tests.billing.test_revenue_api import add_entries, campus_today, set_currency
from tests.support.data import HQ, MARKERS, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries


def months(count: int, last: date = date(2026, 11, 1)) -> list[Category]:
    result, year, month = [], last.year, last.month
    for _ in range(count):
        result.append(Category(f"{year:04d}-{month:02d}", f"{month:02d}", f"{year}-{month:02d}"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return result[::-1]


STREAMS = make_series([("training", "Training"), ("coworking", "Coworking"),
                       ("events", "Events"), ("sponsorship", "Sponsorship"), ("other", "Other")])
EUR = money_formatter("EUR", "en")


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# --- numbers and scales ---------------------------------------------------------------------------


@pytest.mark.parametrize(("span", "step"), [(0, 1), (3, 1), (7, 2), (12345, 5000), (100, 25),
                                            (1_000_000_00, 25_000_000), (18, 5)])
def test_nice_step_is_a_round_whole_number(span, step):
    assert nice_step(span) == step


def test_ticks_cover_the_values_with_zero_among_them():
    assert nice_ticks(0, 12345) == [0, 5000, 10000, 15000]
    assert nice_ticks(-4000, 12000) == [-5000, 0, 5000, 10000, 15000]
    assert nice_ticks(-5, 0) == [-6, -4, -2, 0]
    assert nice_ticks(300, 900) == [0, 250, 500, 750, 1000]  # the axis starts at zero


def test_ticks_of_nothing_are_still_an_axis():
    assert nice_ticks(0, 0) == [0, 1]


def test_a_scale_without_span_does_not_divide_by_zero():
    assert LinearScale(5, 5, 10.0, 90.0)(5) == 10.0
    assert LinearScale(0, 100, 200.0, 0.0)(25) == 150.0


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (1, 12, 8), (1, 8, 13), (4, 9, 44), (2, 3, 67), (0, 5, 0), (3, 0, None), (3, None, None)])
def test_percent_rounds_half_up_and_has_none_without_a_whole(part, whole, expected):
    assert percent(part, whole) == expected


def test_money_labels_follow_the_viewers_locale_and_the_currency():
    assert money_formatter("EUR", "en")(123450) == "€1,234.50"
    assert money_formatter("MAD", "fr_MA")(123450) == format_money(123450, "MAD", "fr_MA")
    assert "MAD" in money_formatter("MAD", "fr_MA")(123450)
    assert money_formatter("EUR", "en", compact=True)(250000) == "€2.5K"
    assert money_formatter("EUR", "fr_BE", compact=True)(250000) == "2,5\xa0k\xa0€"
    assert percent_formatter("fr_BE")(44) == "44\xa0%" and percent_formatter("en")(None) == "—"


def test_series_colours_differ_reach_3_to_1_on_white_and_carry_a_pattern():
    assert len(set(PALETTE)) == len(PALETTE) and len(set(PATTERNS)) == len(PATTERNS)
    assert all(contrast(colour, "#ffffff") >= 3 for colour in PALETTE)
    assert [(s.colour, s.pattern) for s in STREAMS] == list(zip(PALETTE, PATTERNS, strict=True))[:5]
    assert [s.index for s in STREAMS] == [0, 1, 2, 3, 4]


# --- stacked bars -----------------------------------------------------------------------------


def test_stacked_bars_stack_each_month_in_series_order():
    values = {("2026-10", "training"): 3000, ("2026-10", "events"): 1000,
              ("2026-11", "coworking"): 2000}
    chart = stacked_bars(months(2), STREAMS, values, EUR)
    october, november = chart.bars
    assert [s.series.key for s in october.segments] == ["training", "events"]
    training, events = october.segments
    assert training.y + training.height == pytest.approx(chart.zero_y, abs=0.1)
    assert events.y + events.height == pytest.approx(training.y, abs=0.1)  # on top of it
    assert training.height == pytest.approx(3 * events.height, abs=0.2)
    assert october.total == 4000 and november.total == 2000 and chart.total == 6000
    assert chart.total_label == "€60.00" and october.total_label == "€40.00"
    assert [c.value for c in october.cells] == [3000, 0, 1000, 0, 0]  # every stream, in order
    assert [c.label for c in chart.series_totals] == ["€30.00", "€20.00", "€10.00", "€0.00",
                                                      "€0.00"]
    assert chart.ticks[0].value == 0 and chart.ticks[-1].value >= 4000
    assert chart.ticks[-1].position == chart.top and chart.ticks[0].position == chart.bottom
    assert not chart.is_empty and october.net_y is None


def test_a_month_with_a_reversal_goes_below_zero_and_marks_its_net():
    values = {("2026-11", "training"): 5000, ("2026-11", "other"): -2000,
              ("2026-10", "events"): -1000}
    chart = stacked_bars(months(2), STREAMS, values, EUR)
    october, november = chart.bars
    [refund] = october.segments
    assert refund.y == chart.zero_y and refund.value == -1000  # hangs from the zero line
    assert chart.ticks[0].value < 0 < chart.ticks[-1].value
    training, other = november.segments
    assert other.y == chart.zero_y and training.y + training.height == pytest.approx(
        chart.zero_y, abs=0.1)
    assert november.total == 3000 and november.net_y is not None
    assert chart.zero_y > november.net_y > training.y  # the net: above zero, below the top
    assert october.net_y is None  # only negative: its bottom is its total


def test_no_revenue_is_an_empty_chart_without_division_by_zero():
    empty = stacked_bars(months(12), STREAMS, {}, EUR)
    assert empty.is_empty and all(not bar.segments for bar in empty.bars)
    netted = stacked_bars(months(1), STREAMS, {("2026-11", "training"): 0}, EUR)
    assert netted.is_empty
    nothing = stacked_bars([], STREAMS, {}, EUR)
    assert nothing.is_empty and nothing.bars == ()


def test_a_single_month_is_one_bar_in_the_middle():
    chart = stacked_bars(months(1), STREAMS, {("2026-11", "training"): 100}, EUR)
    [bar] = chart.bars
    assert bar.label_x == pytest.approx((chart.left + chart.right) / 2, abs=0.1)
    assert bar.segments[0].height > 0


def test_mirrored_chart_reads_right_to_left():
    chart = stacked_bars(months(3), STREAMS, {("2026-09", "training"): 100,
                                              ("2026-11", "events"): 200}, EUR)
    rtl = chart.mirrored()
    assert rtl.rtl and not chart.rtl
    assert rtl.bars[0].label_x > rtl.bars[-1].label_x  # the first month on the right
    for ltr_bar, rtl_bar in zip(chart.bars, rtl.bars, strict=True):
        assert rtl_bar.x == pytest.approx(chart.width - ltr_bar.x - ltr_bar.width, abs=0.1)
        for a, b in zip(ltr_bar.segments, rtl_bar.segments, strict=True):
            assert (b.y, b.height) == (a.y, a.height)
    assert rtl.tick_x == chart.width - chart.tick_x
    assert rtl.mirrored().bars == chart.bars


def test_a_mad_campus_is_charted_in_mad():
    mad = money_formatter("MAD", "fr_MA")
    chart = stacked_bars(months(1), STREAMS, {("2026-11", "training"): 1085000}, mad,
                         money_formatter("MAD", "fr_MA", compact=True))
    assert chart.bars[0].total_label == format_money(1085000, "MAD", "fr_MA")
    assert all("MAD" in tick.label for tick in chart.ticks)


# --- horizontal bars, fill rates, the funnel ----------------------------------------------------


def test_horizontal_bars_scale_to_the_largest_and_keep_their_order():
    chart = horizontal_bars([("a", "Antwerp", 3000), ("m", "Molenbeek", 1000)], EUR,
                            notes={"a": "75%"})
    antwerp, molenbeek = chart.bars
    assert antwerp.width == pytest.approx(3 * molenbeek.width, abs=0.2)
    assert antwerp.x == molenbeek.x == chart.zero_x
    assert antwerp.note == "75%" and molenbeek.note == "" and antwerp.value_label == "€30.00"
    assert antwerp.y < molenbeek.y


def test_a_negative_bar_extends_the_other_way_and_nothing_is_empty():
    chart = horizontal_bars([("a", "A", 1000), ("b", "B", -500)], EUR)
    positive, negative = chart.bars
    assert positive.x == chart.zero_x and negative.x + negative.width == chart.zero_x
    assert horizontal_bars([("a", "A", 0)], EUR).is_empty
    assert horizontal_bars([], EUR).is_empty
    mirrored = chart.mirrored()
    assert mirrored.zero_x == chart.width - chart.zero_x
    assert mirrored.bars[0].x + mirrored.bars[0].width == pytest.approx(mirrored.zero_x, abs=0.1)


def test_fill_bars_show_capacity_and_places_taken():
    chart = fill_bars([("1", "Cyber", "11 Jan", 6, 12), ("2", "Cloud", "1 Mar", 6, 6),
                       ("3", "Data", "1 Apr", 9, 6)])
    half, full, over = chart.bars
    assert half.track_width == full.track_width * 2  # tracks as long as their capacity
    assert half.fill_width == half.track_width / 2 and (half.rate, half.full) == (50, False)
    assert full.fill_width == full.track_width and (full.rate, full.full) == (100, True)
    assert over.fill_width == over.track_width and over.rate == 150  # never past the track
    assert half.text_x > half.track_x + half.track_width


def test_fill_bars_without_seats_are_an_empty_state():
    assert fill_bars([]).is_empty
    chart = fill_bars([("1", "Cyber", "", 0, 0)])
    assert chart.is_empty and chart.bars[0].rate is None and chart.bars[0].track_width == 0


def test_funnel_steps_are_centred_proportional_and_converted_from_the_step_before():
    chart = funnel([("applied", "Applied", 10), ("admitted", "Admitted", 4),
                    ("completed", "Completed", 3), ("certified", "Certified", 2),
                    ("job", "Job", 1)], bases={"job": "completed"})
    applied, admitted, _completed, certified, job = chart.steps
    middle = applied.x + applied.width / 2
    assert all(s.x + s.width / 2 == pytest.approx(middle, abs=0.1) for s in chart.steps)
    assert admitted.width == pytest.approx(applied.width * 0.4, abs=0.1)
    assert [s.conversion for s in chart.steps] == [None, 40, 75, 67, 33]
    assert job.base == "completed" and certified.base == "completed" and applied.base is None
    assert [s.of_first for s in chart.steps] == [100, 40, 30, 20, 10]
    assert len(chart.links) == 4 and not chart.is_empty


def test_funnel_takes_the_callers_conversions_and_has_an_empty_state():
    chart = funnel([("a", "A", 9), ("b", "B", 4)], conversions={"b": 45})
    assert chart.steps[1].conversion == 45
    empty = funnel([("a", "A", 0), ("b", "B", 0)])
    assert empty.is_empty and [s.conversion for s in empty.steps] == [None, None]
    assert all(s.width == 0 for s in empty.steps)
    mirrored = chart.mirrored()
    assert mirrored.label_x == chart.width and mirrored.steps[0].width == chart.steps[0].width


# --- the macros ---------------------------------------------------------------------------------


STACKED = """{% from "_charts.html" import stacked_bar_chart with context %}
{{ stacked_bar_chart(chart, "test-chart", "Revenue", "Per month:", "Nothing yet.", "Month") }}"""


def render(app, source: str, **context) -> str:
    with app.test_request_context("/"):
        return render_template_string(source, **context)


def test_stacked_chart_macro_is_an_accessible_svg_with_legend_and_data_table(app):
    chart = stacked_bars(months(2), STREAMS[:2], {("2026-10", "training"): 3000,
                                                  ("2026-11", "coworking"): -1000}, EUR)
    html = render(app, STACKED, chart=chart)
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="test-chart-title test-chart-desc"' in svg
    assert '<title id="test-chart-title">Revenue</title>' in svg
    assert '<desc id="test-chart-desc">Per month: 2026-10: €30.00; 2026-11: -€10.00</desc>' in svg
    assert 'viewBox="0 0 720 300"' in svg and 'width="100%"' in svg and 'direction="ltr"' in svg
    assert 'fill="url(#test-chart-p1)"' in svg and '<pattern id="test-chart-p1"' in svg
    assert "<title>2026-10 · Training: €30.00</title>" in svg
    assert "style=" not in html and "<script" not in html
    legend = re.search(r'<ul class="plain actions chart-legend".*?</ul>', html, re.S).group(0)
    assert legend.index("Training") < legend.index("Coworking")
    table = re.search(r"<details>.*?</details>", html, re.S).group(0)
    assert "<summary>Data table</summary>" in table
    assert re.search(r'<tr data-category="2026-10"><th scope="row">2026-10</th>'
                     r"<td>€30.00</td><td>€0.00</td><td><strong>€30.00</strong></td></tr>", table)


def test_an_empty_chart_renders_its_empty_state_only(app):
    html = render(app, STACKED, chart=stacked_bars(months(12), STREAMS, {}, EUR))
    assert '<p class="empty" id="test-chart-empty">Nothing yet.</p>' in html
    assert "<svg" not in html


def test_on_a_right_to_left_page_the_chart_is_mirrored(app):
    chart = stacked_bars(months(2), STREAMS[:1], {("2026-10", "training"): 3000}, EUR)
    html = render(app, STACKED, chart=chart, text_direction=lambda: "rtl")
    assert 'direction="rtl"' in html
    first_label = re.search(r'<g data-category="2026-10">.*?<text x="([\d.]+)"', html, re.S)
    assert float(first_label.group(1)) == chart.mirrored().bars[0].label_x
    assert float(first_label.group(1)) > chart.width / 2
    ltr = render(app, STACKED, chart=chart, text_direction=lambda: "ltr")
    assert 'direction="ltr"' in ltr


def test_funnel_macro_describes_each_step_and_its_conversion(app):
    chart = funnel([("applied", "Applied", 9), ("admitted", "Admitted", 4)])
    html = render(app, """{% from "_charts.html" import funnel_chart with context %}
{{ funnel_chart(chart, "f", "Funnel", "caption", "Nothing.", notes=notes) }}""",
                  chart=chart, notes={"admitted": "of applied"})
    assert '<desc id="f-desc">Applied: 9; Admitted: 4 (44%)</desc>' in html
    assert 'role="img" aria-labelledby="f-title f-desc"' in html
    assert re.search(r'<tr data-step="admitted"><th scope="row">Admitted</th><td>4</td>\s*'
                     r'<td>44% <span class="muted">of applied</span></td></tr>', html)


# --- the campus dashboard -----------------------------------------------------------------------


def signed_in(site, email: str, host: str = "molenbeek"):
    """A client signed in on `host` that chose English (the texts asserted below); money and
    percentages stay in the locale of the campus (`page_locale`)."""
    client = site(host)
    assert client.sign_in(email).status_code == 302
    with client.client.session_transaction(base_url=client.base_url) as session:
        session["locale"] = "en"
    return client


def page_locale(page: str) -> str:
    """The locale a page was written in (`<html lang>`)."""
    return re.search(r'<html lang="([^"]+)"', page).group(1).replace("-", "_")


def money_of(page: str, minor: int, currency: str = "EUR") -> str:
    return format_money(minor, currency, page_locale(page))


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def month_back(day: date, count: int) -> date:
    year, month = day.year, day.month - count
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def test_molenbeek_dashboard_charts_its_own_last_twelve_months_by_stream(app, site, base):
    today = campus_today()
    two_months_ago = month_back(today, 2) + timedelta(days=4)
    add_entries(app, base.campus_ids["molenbeek"], [
        (today, RevenueStream.TRAINING, 250000, "EUR"),
        (two_months_ago, RevenueStream.EVENTS, 45000, "EUR"),
        (two_months_ago, RevenueStream.TRAINING, -7000, "EUR"),  # a refund
        (month_back(today, 13), RevenueStream.SPONSORSHIP, 999900, "EUR"),  # too old
    ])
    add_entries(app, base.campus_ids["antwerp"], [(today, RevenueStream.EVENTS, 313370, "EUR")])
    page = signed_in(site, manager("molenbeek")).get("/").get_data(as_text=True)
    box = section(page, "revenue-months")
    assert "The last 12 months, in EUR." in box
    svg = re.search(r"<svg class=\"chart\".*?</svg>", box, re.S).group(0)
    assert 'role="img"' in svg and "revenue-months-chart-title" in svg
    assert svg.count("<g data-category=") == 12
    assert f'data-category="{today:%Y-%m}"' in svg
    assert f'data-category="{month_back(today, 11):%Y-%m}"' in svg
    assert f'data-category="{month_back(today, 12):%Y-%m}"' not in svg
    # The base data's coworking entry (2026-11-03) while it is among the last twelve months.
    base_entry = {"coworking"} if month_back(today, 11) <= date(2026, 11, 1) <= today else set()
    assert set(re.findall(r'<rect [^>]*data-series="(\w+)"', svg)) == {"training", "events",
                                                                       *base_entry}
    assert money_of(page, 45000) in svg and money_of(page, -7000) in svg
    assert money_of(page, 313370) not in page  # Antwerp's
    assert money_of(page, 999900) not in box  # too old
    assert MARKERS["antwerp"] not in page
    table = re.search(r'<table id="revenue-months-chart-table".*?</table>', box, re.S).group(0)
    assert table.count("<tr data-category=") == 12
    assert "<summary>Data table</summary>" in box


def test_staff_dashboard_shows_neither_revenue_nor_its_chart(app, site, base):
    add_entries(app, base.campus_ids["molenbeek"],
                [(campus_today(), RevenueStream.TRAINING, 250000, "EUR")])
    page = signed_in(site, staff("molenbeek")).get("/").get_data(as_text=True)
    assert 'id="revenue-months"' not in page and "revenue-months-chart" not in page
    assert money_of(page, 250000) not in page and "€" not in page
    assert 'id="cohort-fill-chart"' in page  # places are not money


def test_hq_on_a_campus_sees_that_campus_chart(app, site, base):
    add_entries(app, base.campus_ids["antwerp"],
                [(campus_today(), RevenueStream.EVENTS, 313370, "EUR")])
    antwerp = signed_in(site, HQ, "antwerp").get("/").get_data(as_text=True)
    assert money_of(antwerp, 313370) in section(antwerp, "revenue-months")
    molenbeek = signed_in(site, HQ).get("/").get_data(as_text=True)
    assert money_of(molenbeek, 313370) not in section(molenbeek, "revenue-months")


def drop_rollups_in(app, campus_id: int, currency: str) -> None:
    """Forget the campus's rollups in `currency` (the base data's EUR entry), as if its ledger
    had only ever held its own currency: the chart reads rollups only."""
    with app.app_context(), campus_scope(campus_id, db.session):
        db.session.execute(delete(RevenueRollup).where(RevenueRollup.currency == currency))
        db.session.commit()


def test_a_mad_campus_dashboard_charts_in_mad(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    set_currency(app, molenbeek_id, "MAD")
    drop_rollups_in(app, molenbeek_id, "EUR")
    add_entries(app, molenbeek_id, [(campus_today(), RevenueStream.TRAINING, 1085000, "MAD")])
    page = signed_in(site, manager("molenbeek")).get("/").get_data(as_text=True)
    box = section(page, "revenue-months")
    assert "The last 12 months, in MAD." in box and "Several currencies" not in box
    assert money_of(page, 1085000, "MAD") in box
    assert re.search(r'<text x="[\d.]+" y="[\d.]+" dy="4" text-anchor="end" '
                     r'fill="#5b6575">[^<]*MAD[^<]*</text>', box)  # the axis too


def test_a_campus_with_several_currencies_charts_their_euro_value(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    set_currency(app, molenbeek_id, "MAD")
    today = campus_today()
    add_entries(app, molenbeek_id, [(today, RevenueStream.TRAINING, 1085000, "MAD"),
                                    (today, RevenueStream.EVENTS, 5000, "EUR")])
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        eur = db.session.scalar(select(func.sum(RevenueRollup.amount_eur_minor)).where(
            RevenueRollup.month == today.replace(day=1),
            RevenueRollup.stream == RevenueStream.TRAINING))
    page = signed_in(site, manager("molenbeek")).get("/").get_data(as_text=True)
    box = section(page, "revenue-months")
    assert "The last 12 months, in EUR." in box and "Several currencies" in box
    assert money_of(page, int(eur)) in box and money_of(page, 1085000, "MAD") not in box


def test_dashboard_charts_the_fill_rate_of_the_cohorts_to_come(app, site, base):
    page = signed_in(site, manager("molenbeek")).get("/").get_data(as_text=True)
    chart = re.search(r'<figure class="chart" id="cohort-fill-chart">.*?</figure>', page,
                      re.S).group(0)
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    assert f'<g data-key="{cohort_id}">' in chart
    rate = format_percent(Decimal("0.08"), locale=page_locale(page))
    assert f"1/12 · {rate}" in chart  # 1 of 12 seats
    assert 'role="img"' in chart and "Cybersecurity analyst" in chart


def test_dashboard_query_count_does_not_grow_with_revenue_and_cohorts(app, site, base):
    molenbeek_id = base.campus_ids["molenbeek"]
    client = signed_in(site, manager("molenbeek"))
    with app.app_context():
        engine = db.engine

    def measure() -> int:
        with count_queries(engine) as statements:
            response = client.get("/")
        assert response.status_code == 200
        return len(statements)

    before = measure()
    today = campus_today()
    add_entries(app, molenbeek_id, [(month_back(today, m) + timedelta(days=1), stream, 100 + m,
                                     "EUR") for m in range(12) for stream in RevenueStream])
    with app.app_context(), campus_scope(molenbeek_id, db.session):
        template = db.session.get(Cohort, (molenbeek_id, base.owned["cohort"]["molenbeek"][0]))
        for k in range(4):
            cohort = Cohort(course_id=template.course_id, starts_on=date(2027, 3, 1 + k),
                            ends_on=date(2027, 9, 1), seats=10, language="fr", currency="EUR",
                            status=CohortStatus.OPEN)
            db.session.add(cohort)
            db.session.flush()
            db.session.add(Enrolment(cohort_id=cohort.id,
                                     learner_id=base.learner_ids["molenbeek"][k % 3],
                                     status=EnrolmentStatus.ENROLLED))
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert page.count('<rect x="250.0"') >= 10  # five cohorts: a track and a fill each
    assert measure() == before


# --- HQ's home ----------------------------------------------------------------------------------


def test_hq_home_charts_the_network_by_month_stream_and_campus(app, site, base):
    today = campus_today()
    add_entries(app, base.campus_ids["molenbeek"], [(today, RevenueStream.TRAINING, 70000, "EUR")])
    add_entries(app, base.campus_ids["antwerp"], [
        (today, RevenueStream.EVENTS, 30000, "EUR"),
        (month_back(today, 3) + timedelta(days=2), RevenueStream.SPONSORSHIP, 200000, "EUR"),
    ])
    page = signed_in(site, HQ, "hq").get("/").get_data(as_text=True)
    box = section(page, "network-revenue")
    assert "By month and stream" in box and "By campus" in box
    months_svg = re.search(r'<figure class="chart" id="network-months-chart">.*?</figure>', box,
                           re.S).group(0)
    assert months_svg.count("<g data-category=") == 12
    row = re.search(rf'<tr data-category="{today:%Y-%m}">.*?</tr>', months_svg, re.S).group(0)
    assert money_of(page, 70000) in row and money_of(page, 30000) in row  # both campuses
    assert {"training", "events", "sponsorship"} <= set(
        re.findall(r'<rect [^>]*data-series="(\w+)"', months_svg))
    campuses = re.search(r'<figure class="chart" id="network-campus-chart">.*?</figure>', box,
                         re.S).group(0)
    keys = re.findall(r'<g data-key="(\w+)">', campuses)
    assert keys[:2] == ["antwerp", "molenbeek"]  # largest first
    assert 'href="/reports/revenue?from=' in box and "revenue.csv?from=" in box
    assert MARKERS["molenbeek"] not in page and MARKERS["antwerp"] not in page


def test_hq_home_query_count_does_not_grow_with_entries(app, site, base):
    client = signed_in(site, HQ, "hq")
    with app.app_context():
        engine = db.engine

    def measure() -> int:
        with count_queries(engine) as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    before = measure()
    today = campus_today()
    for slug in ("molenbeek", "antwerp"):
        add_entries(app, base.campus_ids[slug], [
            (month_back(today, m) + timedelta(days=1), stream, 1000 + m, "EUR")
            for m in range(12) for stream in RevenueStream])
    assert measure() == before


def test_nobody_but_hq_gets_the_network_panel(app, site, base):
    page = signed_in(site, manager("molenbeek")).get("/").get_data(as_text=True)
    assert 'id="network-revenue"' not in page


# --- the impact funnel --------------------------------------------------------------------------


def funnel_desc(page: str) -> str:
    return re.search(r'<desc id="funnel-desc">(.*?)</desc>', page, re.S).group(1)


def expected_desc(figures) -> str:
    labels = ("Applied", "Admitted", "Completed", "Fully certified", "Positive outcome")
    conversion = figures.conversion()
    parts = []
    for label, (step, value) in zip(labels, figures.as_dict().items(), strict=True):
        rate = conversion.get(step)
        parts.append(f"{label}: {value}" + (f" ({rate}%)" if rate is not None else ""))
    return "; ".join(parts)


def test_portal_funnel_figures_equal_the_impact_services(app, site, base):
    build_programmes(app, base)
    with app.app_context():
        figures = partner_impact(base.partner_id).funnel
    portal = signed_in(site, PARTNER_CONTACT, "partners")
    for path in ("/", "/impact"):
        page = portal.get(path).get_data(as_text=True)
        assert funnel_desc(page) == expected_desc(figures)
        assert 'role="img" aria-labelledby="funnel-title funnel-desc"' in page
        steps = re.findall(r'<g data-step="(\w+)">', page)
        assert steps == ["applied", "admitted", "completed", "fully_certified",
                         "positive_outcome"]
    assert figures.applied == 5  # Microsoft's cohorts only (not Google's)


def test_hq_impact_funnel_equals_the_report(app, site, base):
    build_programmes(app, base)
    with app.app_context():
        figures = impact_report()["funnel"]
    page = signed_in(site, HQ, "hq").get("/reports/impact").get_data(as_text=True)
    assert funnel_desc(page) == expected_desc(figures)
    widths = [float(w) for w in re.findall(
        r'<g data-step="\w+">.*?<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', page, re.S)]
    assert widths[0] == max(widths) and widths == sorted(widths, reverse=True)


# --- exports of the tables on these pages ------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_impact_breakdown_exports_its_groups_and_total(app, site, base):
    build_programmes(app, base)
    client = signed_in(site, HQ, "hq")
    with app.app_context():
        report = impact_report(group_by="campus")
    rows = csv_rows(client.get("/reports/impact?group_by=campus&format=csv"))
    assert rows[0] == ["Campus", "Cohorts", "Applied", "Admitted", "Completed",
                       "Fully certified", "Positive outcome", "Certified of completed"]
    by_label = {row[0]: row for row in rows[1:]}
    for group in report.get("groups"):
        assert by_label[group.label][1:7] == [str(group.cohorts), *map(
            str, group.funnel.as_dict().values())]
    assert by_label["Total"][2:7] == [str(v) for v in report["funnel"].as_dict().values()]
    page = client.get("/reports/impact?group_by=campus").get_data(as_text=True)
    assert 'href="/reports/impact?format=csv&amp;group_by=campus"' in page
    xlsx = client.get("/reports/impact?group_by=track&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.cell(1, 1).value == "Track" and sheet.cell(2, 3).value >= 0
    assert client.get("/reports/impact?format=pdf").status_code == 422


def test_portal_exports_its_own_impact_tables_only(app, site, base):
    build_programmes(app, base)
    with app.app_context():
        figures = partner_impact(base.partner_id)
    portal = signed_in(site, PARTNER_CONTACT, "partners")
    campuses = csv_rows(portal.get("/impact?format=csv&table=campuses"))
    assert [row[0] for row in campuses[1:]] == [g.label for g in figures.campuses]
    assert campuses[1][2:] == [str(v) for v in figures.campuses[0].funnel.as_dict().values()]
    tracks = csv_rows(portal.get("/impact?format=csv&table=tracks"))
    assert tracks[0][0] == "Track" and len(tracks) == len(figures.tracks) + 1
    body = "".join(",".join(r) for r in campuses + tracks)
    assert MARKERS["molenbeek"] not in body and "@molenbeek.example" not in body
    assert portal.get("/impact?format=csv&table=learners").status_code == 422
    page = portal.get("/impact").get_data(as_text=True)
    assert 'href="/impact?format=xlsx&amp;table=tracks"' in page


def test_portal_agreement_exports_its_campuses_and_invoices(app, site, base):
    programmes = build_programmes(app, base)
    portal = signed_in(site, PARTNER_CONTACT, "partners")
    path = f"/partner/agreements/{programmes.microsoft_agreement_id}"
    invoices = csv_rows(portal.get(f"{path}?format=csv&table=invoices"))
    assert invoices[0][:2] == ["Number", "Issued by"]
    page = portal.get(path).get_data(as_text=True)
    for row in invoices[1:]:
        assert row[0] in page
    campuses = csv_rows(portal.get(f"{path}?format=csv&table=campuses"))
    assert campuses[0][0] == "Campus"
    other = portal.get(f"/partner/agreements/{programmes.google_agreement_id}?format=csv"
                       "&table=invoices")
    assert other.status_code == 404  # another partner's agreement


def test_revenue_year_exports_its_cells(app, site, base):
    add_entries(app, base.campus_ids["molenbeek"], [
        (date(2025, 3, 2), RevenueStream.TRAINING, 250000, "EUR"),
        (date(2025, 3, 9), RevenueStream.TRAINING, -5000, "EUR"),
        (date(2025, 5, 1), RevenueStream.EVENTS, 1234, "EUR"),
    ])
    add_entries(app, base.campus_ids["antwerp"], [(date(2025, 3, 2), RevenueStream.OTHER, 777,
                                                   "EUR")])
    client = signed_in(site, manager("molenbeek"))
    rows = csv_rows(client.get("/revenue?year=2025&format=csv"))
    assert rows[0] == ["Month", "Stream", "Amount", "Currency", "Amount in EUR", "Entries"]
    assert rows[1:] == [["2025-03-01", "Training", "2450.00", "EUR", "2450.00", "2"],
                        ["2025-05-01", "Events", "12.34", "EUR", "12.34", "1"]]
    page = client.get("/revenue?year=2025").get_data(as_text=True)
    assert 'href="/revenue?format=csv&amp;year=2025"' in page
    assert signed_in(site, staff("molenbeek")).get("/revenue?year=2025&format=csv"
                                                   ).status_code in (302, 403, 404)
