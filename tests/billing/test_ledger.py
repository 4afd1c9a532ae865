"""The revenue ledger: EUR values at the rate of the day, rollups, reversals, append-only."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update

from billing.currencies.services import rate_for, set_rate, to_eur_minor
from billing.ledger.models import EntrySource, LedgerIsAppendOnly, RevenueEntry, RevenueRollup
from billing.ledger.models import RevenueStream as Stream
from billing.ledger.services import record_entry, reverse_entry, verify_rollups
from core.errors import Conflict, InvalidInput
from core.extensions import db
from tenants.scoping import all_campuses, campus_scope


@pytest.fixture
def ctx(app, db_session, base):
    with app.app_context():
        set_rate(date(2026, 1, 1), "MAD", Decimal("10.80"))
        set_rate(date(2026, 11, 2), "MAD", Decimal("10.85"))
        yield base
        db.session.rollback()


def entry(amount: int, currency: str = "EUR", day: date = date(2026, 11, 10),
          stream: Stream = Stream.COWORKING, **kwargs) -> RevenueEntry:
    return record_entry(occurred_on=day, stream=stream, amount_minor=amount, currency=currency,
                        source=kwargs.pop("source", EntrySource.MANUAL), **kwargs)


def test_mad_entry_is_valued_in_eur_at_the_rate_of_its_day(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        payment = entry(150000, "MAD", date(2026, 11, 2))  # 1,500.00 MAD at 10.85
    assert payment.fx_rate == Decimal("10.85")
    assert payment.amount_eur_minor == 13825  # 138.2488… € rounded to the cent


def test_a_day_without_rate_takes_the_latest_earlier_one(ctx):
    assert rate_for("MAD", date(2026, 10, 31)) == Decimal("10.80")
    assert rate_for("MAD", date(2025, 6, 1)) == Decimal("10.80")  # the base data's 2024 rate
    assert rate_for("MAD", date(2026, 12, 25)) == Decimal("10.85")
    assert rate_for("EUR", date(1999, 1, 1)) == Decimal(1)


def test_no_rate_at_all_is_a_clear_error_and_nothing_is_recorded(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        before = db.session.scalar(select(func.count()).select_from(RevenueEntry))
        with pytest.raises(InvalidInput, match="No MAD exchange rate on or before 2023-12-31"):
            entry(1000, "MAD", date(2023, 12, 31))
        with pytest.raises(InvalidInput, match="No USD exchange rate"):
            entry(1000, "USD")
        assert db.session.scalar(select(func.count()).select_from(RevenueEntry)) == before


def test_eur_conversion_never_goes_through_a_float():
    assert to_eur_minor(1, "MAD", Decimal("10.85")) == 0
    assert to_eur_minor(1085, "MAD", Decimal("10.85")) == 100
    assert to_eur_minor(-150000, "MAD", Decimal("10.85")) == -13825
    assert to_eur_minor(12345, "EUR", Decimal(1)) == 12345
    assert to_eur_minor(1000, "JPY", Decimal("160")) == 625  # 0-decimal currency


def test_entries_accumulate_in_their_monthly_rollup(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        entry(1000, stream=Stream.EVENTS)
        entry(2500, day=date(2026, 11, 30), stream=Stream.EVENTS)
        entry(700, day=date(2026, 12, 1), stream=Stream.EVENTS)
        rollups = {(r.month, r.amount_minor, r.entry_count) for r in db.session.scalars(
            select(RevenueRollup).where(RevenueRollup.stream == Stream.EVENTS))}
    assert rollups == {(date(2026, 11, 1), 3500, 2), (date(2026, 12, 1), 700, 1)}


def test_a_source_key_counts_once(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        entry(1000, source=EntrySource.PAYMENT, source_key="pi_123")
        with pytest.raises(Conflict) as raised:
            entry(1000, source=EntrySource.PAYMENT, source_key="pi_123")
    assert raised.value.code == "duplicate_source"


def test_reversal_cancels_to_the_cent_and_happens_once(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        original = entry(150001, "MAD", date(2026, 11, 3), Stream.TRAINING)
        reversal = reverse_entry(original)
        assert (reversal.amount_minor, reversal.amount_eur_minor) == (
            -original.amount_minor, -original.amount_eur_minor)
        with pytest.raises(Conflict) as twice:
            reverse_entry(original)
        with pytest.raises(Conflict) as of_reversal:
            reverse_entry(reversal)
        rollup = db.session.scalar(select(RevenueRollup).where(
            RevenueRollup.stream == Stream.TRAINING))
    assert twice.value.code == "already_reversed" and of_reversal.value.code == "is_reversal"
    assert (rollup.amount_minor, rollup.amount_eur_minor, rollup.entry_count) == (0, 0, 2)


def test_the_orm_refuses_to_change_or_delete_an_entry(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        recorded = entry(1000)
        recorded.memo = "edited"
        with pytest.raises(LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        recorded = entry(1000)
        db.session.delete(recorded)
        with pytest.raises(LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(LedgerIsAppendOnly):
            db.session.execute(update(RevenueEntry).values(memo="bulk"))


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)  # the trigger is PostgreSQL's
def test_postgresql_refuses_update_and_delete_on_the_ledger(app, ctx):
    assert db.engine.dialect.name == "postgresql"
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        entry(1000)
        db.session.flush()
        for statement in ("UPDATE revenue_entries SET memo = 'x'", "DELETE FROM revenue_entries"):
            nested = db.session.begin_nested()
            with pytest.raises(Exception, match="append-only"):
                db.session.execute(text(statement))
            nested.rollback()


def test_verify_finds_a_tampered_rollup(ctx):
    with campus_scope(ctx.campus_ids["molenbeek"], db.session):
        entry(1000, stream=Stream.OTHER)
        db.session.execute(update(RevenueRollup).where(RevenueRollup.stream == Stream.OTHER)
                           .values(amount_minor=999))
    with all_campuses(db.session):
        differences = verify_rollups()
    assert len(differences) == 1
    assert (differences[0].stored[0], differences[0].computed[0]) == (999, 1000)


OPERATIONS = st.lists(st.tuples(
    st.sampled_from(["molenbeek", "antwerp"]),
    st.sampled_from(list(Stream)),
    st.integers(min_value=-10**9, max_value=10**9).filter(bool),
    st.sampled_from(["EUR", "MAD"]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    st.booleans(),  # reverse it afterwards
), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_rollups_always_equal_the_raw_sums(ctx, operations):
    for slug, stream, amount, currency, day, reverse in operations:
        with campus_scope(ctx.campus_ids[slug], db.session):
            recorded = entry(amount, currency, day, stream)
            if reverse:
                reverse_entry(recorded)
    with all_campuses(db.session):
        assert verify_rollups() == []
        by_campus = dict(db.session.execute(
            select(RevenueRollup.campus_id, func.sum(RevenueRollup.amount_eur_minor))
            .group_by(RevenueRollup.campus_id)).all())
        network = db.session.scalar(select(func.sum(RevenueRollup.amount_eur_minor)))
        raw = db.session.scalar(select(func.sum(RevenueEntry.amount_eur_minor)))
    assert network == raw == sum(by_campus.values())
    db.session.rollback()
    set_rate(date(2026, 1, 1), "MAD", Decimal("10.80"))
    set_rate(date(2026, 11, 2), "MAD", Decimal("10.85"))
