"""Royalties: HQ's rates (grid page and API), the monthly statements computed from the ledger
and issued by HQ to each campus (service, CLI, HQ page), and each campus's own statements.

Base rates: training 5 %, coworking 3 % at both campuses; the base ledger has revenue only in
November 2026 (coworking 120.00 per campus), so October is empty unless a test records some.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.currencies.services import set_rate
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing.ledger.models import EntrySource, RevenueStream
from billing.ledger.services import record_entry, reverse_entry
from billing.royalties.models import RoyaltyRate
from billing.royalties.runs import StreamRevenue, issue_royalties
from core.errors import InvalidInput
from core.extensions import db
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses, campus_scope
from tests.billing.test_agreements import add_casablanca, bearer
from tests.support.data import HQ, MARKERS, manager, staff
from tests.support.queries import count_queries

OCTOBER = date(2026, 10, 1)
TODAY = date(2026, 11, 22)
S = RevenueStream


def record(app, campus_id: int, stream: RevenueStream, amount_minor: int, *,
           day: date = date(2026, 10, 14), currency: str = "EUR", reverse: bool = False) -> None:
    with app.app_context(), campus_scope(campus_id, db.session):
        entry = record_entry(occurred_on=day, stream=stream, amount_minor=amount_minor,
                             currency=currency, source=EntrySource.MANUAL, memo="test")
        if reverse:
            reverse_entry(entry)
        db.session.commit()


def statements(app) -> list[Invoice]:
    with app.app_context(), all_campuses(db.session):
        found = list(db.session.scalars(select(Invoice).where(
            Invoice.kind == InvoiceKind.ROYALTY).order_by(Invoice.number)))
        for invoice in found:
            invoice.lines  # noqa: B018 (loaded while every campus may be read)
        db.session.expunge_all()
    return found


def rates(app) -> dict[tuple[int, str], Decimal]:
    with app.app_context():
        return {(r.campus_id, RevenueStream(r.stream).value): r.rate
                for r in db.session.scalars(select(RoyaltyRate))}


def run(app, month: date = OCTOBER, today: date = TODAY):
    with app.app_context():
        return issue_royalties(month, today=today)


@pytest.fixture
def october(app, base):
    """Molenbeek's October: training 1,234.56 + 200.00, coworking 101.50 (3 % = 3.045 → 3.04,
    half-even), events 80.00 (no rate), sponsorship refunded (nets to 0). Antwerp's October:
    coworking 50.00 then reversed (nets to 0): no revenue, no statement."""
    molenbeek, antwerp = base.campus_ids["molenbeek"], base.campus_ids["antwerp"]
    record(app, molenbeek, S.TRAINING, 123456)
    record(app, molenbeek, S.TRAINING, 20000, day=date(2026, 10, 31))
    record(app, molenbeek, S.COWORKING, 10150)
    record(app, molenbeek, S.EVENTS, 8000)
    record(app, molenbeek, S.SPONSORSHIP, 50000, reverse=True)
    record(app, molenbeek, S.TRAINING, 99999, day=date(2026, 9, 30))  # September
    record(app, antwerp, S.COWORKING, 5000, reverse=True)
    return base


def test_royalty_is_revenue_times_rate_rounded_half_even():
    assert StreamRevenue(S.TRAINING, 143456, Decimal("5")).royalty_minor == 7173  # 7172.8
    assert StreamRevenue(S.COWORKING, 10150, Decimal("3")).royalty_minor == 304  # 304.5 → even
    assert StreamRevenue(S.COWORKING, 10250, Decimal("3")).royalty_minor == 308  # 307.5 → even
    assert StreamRevenue(S.EVENTS, 1000, Decimal("0.05")).royalty_minor == 0  # 0.5 → 0


def test_statement_lines_come_from_the_ledger_stream_by_stream(app, october):
    result = run(app)
    assert result.created == ["HQ-2026-0001"] and result.total == 2 and result.empty == 1
    [statement] = statements(app)
    assert statement.campus_id == october.campus_ids["molenbeek"]
    assert (statement.kind, statement.status) == (InvoiceKind.ROYALTY, InvoiceStatus.ISSUED)
    assert statement.issuer_details["code"] == "HQ" and statement.partner_id is None
    assert statement.recipient_details["code"] == "MOL"
    assert statement.run_key == "royalty:2026-10" and statement.currency == "EUR"
    assert (statement.period_start, statement.period_end) == (OCTOBER, date(2026, 10, 31))
    assert [(line.description, line.quantity, line.unit_minor) for line in statement.lines] == [
        ("Royalty on training revenue October 2026: €1,434.56 × 5 %", 1, 7173),  # noqa: RUF001
        ("Royalty on coworking revenue October 2026: €101.50 × 3 %", 1, 304),  # noqa: RUF001
    ]
    assert statement.subtotal_minor == 7477
    # HQ and Molenbeek are both Belgian: Belgian VAT, no reverse charge.
    assert not statement.reverse_charge and statement.vat_minor == 1570  # 21 % of 74.77


def test_a_second_run_creates_nothing_new(app, october):
    run(app)
    again = run(app)
    assert again.created == [] and again.skipped == 1 and again.empty == 1
    assert [s.number for s in statements(app)] == ["HQ-2026-0001"]


def test_a_campus_with_no_revenue_gets_no_statement(app, base):
    result = run(app)  # nothing in October anywhere
    assert result.created == [] and result.empty == 2
    assert statements(app) == []


def test_zero_rates_charge_nothing(app, october):
    with app.app_context():
        for rate in db.session.scalars(select(RoyaltyRate)):
            rate.rate = Decimal("0")
        db.session.commit()
    assert run(app).created == []
    assert statements(app) == []


def test_a_campus_in_another_currency_is_charged_in_its_own(app, base):
    add_casablanca(app)
    with app.app_context():
        casablanca = db.session.scalar(select(Campus.id).where(Campus.slug == "casablanca"))
        db.session.add(RoyaltyRate(campus_id=casablanca, stream=S.TRAINING, rate=Decimal("4.5")))
        set_rate(date(2026, 10, 1), "MAD", Decimal("10.85"))
        db.session.commit()
    record(app, casablanca, S.TRAINING, 1000000, currency="MAD")
    record(app, casablanca, S.TRAINING, 7000, currency="EUR")  # not in its currency: left out
    run(app)
    [statement] = statements(app)
    assert statement.currency == "MAD" and statement.campus_id == casablanca
    assert [line.unit_minor for line in statement.lines] == [45000]
    assert "MAD" in statement.lines[0].description and "4.5 %" in statement.lines[0].description


def test_a_month_that_is_not_over_is_refused(app, base):
    with pytest.raises(InvalidInput):
        run(app, month=date(2026, 11, 1))
    assert statements(app) == []


# --- CLI ------------------------------------------------------------------------------------


def cli(app, monkeypatch, *args):
    import billing.royalties.cli as module

    monkeypatch.setattr(module, "utcnow", lambda: datetime(2026, 11, 22, 9, tzinfo=UTC))
    return app.test_cli_runner().invoke(args=["billing", "royalties", *args])


def test_cli_issues_statements_with_a_progress_bar(app, db_session, october, monkeypatch):
    result = cli(app, monkeypatch, "--month", "2026-10")
    assert result.exit_code == 0, result.output
    assert "Royalty statements for 2026-10" in result.output
    assert "2026-10: 1 created (HQ-2026-0001), 0 skipped (already issued), 1 with nothing to " \
           "invoice." in result.output
    again = cli(app, monkeypatch, "--month", "2026-10")
    assert again.exit_code == 0 and "0 created, 1 skipped" in again.output


@pytest.mark.parametrize("month", ["2026-00", "10/2026", "2026-11", "2030-01"])
def test_cli_refuses_a_bad_month_with_exit_code_2(app, db_session, october, monkeypatch, month):
    result = cli(app, monkeypatch, "--month", month)
    assert result.exit_code == 2 and "--month" in result.output
    assert statements(app) == []


# --- HQ: statements page and run button -------------------------------------------------------


@pytest.fixture
def hq(site):
    hq = site("hq")
    assert hq.sign_in(HQ).status_code == 302
    return hq


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_hq_runs_a_month_and_sees_every_campus_statement(hq, app, october):
    page = text_of(hq.get("/royalties"))
    assert "No royalty statement yet." in page and 'type="month"' in page
    response = hq.post("/royalties/run", data={"month": "2026-10"})
    assert response.status_code == 302
    page = text_of(hq.get(response.headers["Location"]))
    assert "2026-10: 1 created (HQ-2026-0001)" in page
    assert '<progress id="run-progress" max="2" value="2">' in page
    assert "HQ-2026-0001" in page and "Molenbeek" in page and "€90.47" in page  # 74.77 + VAT
    filtered = text_of(hq.get("/royalties?campus=antwerp"))
    assert "No statement matches these filters." in filtered
    assert "HQ-2026-0001" in text_of(hq.get("/royalties?month=2026-10&campus=molenbeek"))


@pytest.mark.parametrize("month", ["", "2026-1", "2026-11"])
def test_hq_run_refuses_a_bad_month(hq, app, october, month):
    response = hq.post("/royalties/run", data={"month": month})
    assert response.status_code == 422
    assert 'id="month-error"' in text_of(response)
    assert statements(app) == []


def test_hq_statements_list_runs_a_fixed_number_of_queries(hq, app, october):
    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements_run:
            assert hq.get("/royalties").status_code == 200
        return len(statements_run)

    run(app)
    small = measure()
    for month in (7, 8, 9):
        record(app, october.campus_ids["antwerp"], S.TRAINING, 10000, day=date(2026, month, 3))
        record(app, october.campus_ids["molenbeek"], S.TRAINING, 10000, day=date(2026, month, 3))
        run(app, month=date(2026, month, 1))
    assert len(statements(app)) == 7
    assert measure() == small


# --- a campus sees its own statements ---------------------------------------------------------


def test_a_campus_manager_sees_the_campus_statements_only(site, app, october):
    run(app)
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    page = text_of(molenbeek.get("/royalties"))
    assert "HQ-2026-0001" in page and "October 2026" in page
    assert 'href="/invoices/HQ-2026-0001"' in page and 'href="/invoices/HQ-2026-0001.pdf"' in page
    assert molenbeek.get("/invoices/HQ-2026-0001").status_code == 200
    antwerp = site("antwerp")
    antwerp.sign_in(manager("antwerp"))
    page = text_of(antwerp.get("/royalties"))
    assert "HQ-2026-0001" not in page and "No royalty statement yet." in page
    assert antwerp.get("/invoices/HQ-2026-0001").status_code == 404
    assert antwerp.get("/invoices/HQ-2026-0001.pdf").status_code == 404
    assert MARKERS["molenbeek"] not in page


def test_hq_may_read_a_campus_statements_on_its_site_and_staff_may_not(site, app, october):
    run(app)
    molenbeek = site("molenbeek")
    molenbeek.sign_in(HQ)
    assert "HQ-2026-0001" in text_of(molenbeek.get("/royalties"))
    coach = site("molenbeek")
    coach.sign_in(staff("molenbeek"))
    assert coach.get("/royalties").status_code == 403


def test_campus_statements_list_runs_a_fixed_number_of_queries(site, app, october):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))

    def measure() -> int:
        with app.app_context(), count_queries(db.engine) as statements_run:
            assert molenbeek.get("/royalties").status_code == 200
        return len(statements_run)

    run(app)
    small = measure()
    for month in (6, 7, 8, 9):
        record(app, october.campus_ids["molenbeek"], S.COWORKING, 10000, day=date(2026, month, 3))
        run(app, month=date(2026, month, 1))
    assert measure() == small


# --- rates: page and API ----------------------------------------------------------------------


def test_hq_rate_grid_shows_every_campus_and_stream(hq, base):
    page = text_of(hq.get("/royalties/rates"))
    molenbeek_training = 'id="rate-molenbeek-training" name="rate-molenbeek-training"'
    assert molenbeek_training in page and 'value="5.00"' in page
    assert 'id="rate-antwerp-sponsorship"' in page and 'value="0.00"' in page
    assert 'name="csrf_token"' in page


def test_hq_saves_the_rate_grid(hq, app, base):
    response = hq.post("/royalties/rates", data={
        "rate-molenbeek-training": "6,5", "rate-molenbeek-coworking": "3",
        "rate-antwerp-events": "2.25", "rate-antwerp-training": "0"})
    assert response.status_code == 302
    assert "Saved the royalty rates (3 changed)." in text_of(hq.get("/royalties/rates"))
    stored = rates(app)
    molenbeek, antwerp = base.campus_ids["molenbeek"], base.campus_ids["antwerp"]
    assert stored[(molenbeek, "training")] == Decimal("6.50")
    assert stored[(antwerp, "events")] == Decimal("2.25")
    assert stored[(antwerp, "training")] == Decimal("0.00")
    assert stored[(antwerp, "coworking")] == Decimal("3.00")  # not posted: kept


@pytest.mark.parametrize("bad", ["101", "-1", "4.755", "abc", "nan", "1e3"])
def test_hq_rate_grid_refuses_bad_rates_and_saves_none(hq, app, base, bad):
    before = rates(app)
    response = hq.post("/royalties/rates", data={"rate-molenbeek-training": "7",
                                                 "rate-antwerp-events": bad})
    assert response.status_code == 422
    page = text_of(response)
    assert 'id="rate-antwerp-events-error"' in page and 'aria-invalid="true"' in page
    assert f'value="{bad}"' in page and 'value="7"' in page
    assert rates(app) == before


def test_api_reads_and_sets_rates(site, app, base):
    hq = site("hq")
    headers = bearer(hq)
    grid = hq.get("/api/v1/royalty-rates", headers=headers)
    assert grid.status_code == 200
    items = grid.get_json()["items"]
    assert len(items) == 2 * len(RevenueStream)
    assert {"campus": "molenbeek", "stream": "training", "rate": "5.00"} in items
    assert {"campus": "antwerp", "stream": "events", "rate": "0.00"} in items
    response = hq.open("PUT", "/api/v1/royalty-rates", headers=headers, json={"rates": [
        {"campus": "antwerp", "stream": "events", "rate": 1.5},
        {"campus": "molenbeek", "stream": "training", "rate": "4.75"}]})
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert {"campus": "antwerp", "stream": "events", "rate": "1.50"} in items
    assert {"campus": "molenbeek", "stream": "training", "rate": "4.75"} in items


@pytest.mark.parametrize("cells", [
    [{"campus": "molenbeek", "stream": "training", "rate": 100.01}],
    [{"campus": "molenbeek", "stream": "training", "rate": "4.755"}],
    [{"campus": "molenbeek", "stream": "training", "rate": True}],
    [{"campus": "molenbeek", "stream": "bitcoin", "rate": 1}],
    [{"campus": "molenbeek", "stream": "training", "rate": 2},
     {"campus": "atlantis", "stream": "training", "rate": 2}],
    [{"campus": "molenbeek", "stream": "training", "rate": 2},
     {"campus": "molenbeek", "stream": "training", "rate": 3}],
    [],
])
def test_api_refuses_bad_rates_with_422_and_sets_none(site, app, base, cells):
    hq = site("hq")
    before = rates(app)
    response = hq.open("PUT", "/api/v1/royalty-rates", headers=bearer(hq),
                       json={"rates": cells})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"]
    assert rates(app) == before


def test_rates_and_runs_are_hq_only(site, app, october):
    molenbeek = site("molenbeek")
    molenbeek.sign_in(manager("molenbeek"))
    assert molenbeek.get("/royalties/rates").status_code == 404
    assert molenbeek.post("/royalties/run", data={"month": "2026-10"}).status_code == 404
    headers = bearer(molenbeek, manager("molenbeek"))
    assert molenbeek.get("/api/v1/royalty-rates", headers=headers).status_code == 404
    put = molenbeek.open("PUT", "/api/v1/royalty-rates", headers=headers,
                         json={"rates": [{"campus": "molenbeek", "stream": "training",
                                          "rate": 0}]})
    assert put.status_code == 404
    assert site("hq").get("/api/v1/royalty-rates").status_code == 401
    assert statements(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RoyaltyRate)) == 4


def test_without_an_hq_entity_the_run_is_refused_before_anything_is_made(app, october):
    from billing.entities.models import BillingEntity
    from core.errors import NotFound

    with app.app_context():
        db.session.execute(BillingEntity.__table__.delete().where(
            BillingEntity.__table__.c.campus_id.is_(None)))
        db.session.commit()
    with pytest.raises(NotFound):
        run(app)
    assert statements(app) == []
