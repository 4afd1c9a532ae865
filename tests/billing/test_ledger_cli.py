"""`flask fx import` (all or nothing, bad line named) and `flask ledger verify|rebuild`."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, update

from billing.currencies.models import FxRate
from billing.ledger.models import EntrySource, RevenueRollup, RevenueStream
from billing.ledger.services import record_entry
from core.extensions import db
from tenants.scoping import campus_scope


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def rate_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FxRate))


def test_fx_import_loads_every_line(app, db_session, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2026-11-02,MAD,10.85\n2026-11-03,MAD,10.87\n")
    result = run(app, "fx", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 2 rate(s)." in result.output
    with app.app_context():
        assert db.session.scalar(select(FxRate.rate).where(FxRate.day == date(2026, 11, 3))) \
            == Decimal("10.87")


def test_fx_import_names_the_bad_line_and_imports_nothing(app, db_session, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2026-11-02,MAD,10.85\n2026-11-03,MAD,ten\n")
    before = rate_count(app)
    result = run(app, "fx", "import", str(path))
    assert result.exit_code == 1
    assert "Line 3" in result.output and "Nothing was imported." in result.output
    assert rate_count(app) == before


def test_fx_import_refuses_a_negative_or_unknown_rate(app, db_session, tmp_path):
    for bad in ("2026-11-02,MAD,-1", "2026-11-02,ZZZ,1.5", "2026-11-02,EUR,1"):
        path = tmp_path / "rates.csv"
        path.write_text(bad + "\n")
        result = run(app, "fx", "import", str(path))
        assert result.exit_code == 1 and "Line 1" in result.output, bad


def test_ledger_verify_and_rebuild(app, db_session, base):
    with app.app_context(), campus_scope(base.campus_ids["antwerp"], db.session):
        record_entry(occurred_on=date(2026, 11, 5), stream=RevenueStream.EVENTS,
                     amount_minor=4200, currency="EUR", source=EntrySource.MANUAL)
        db.session.execute(update(RevenueRollup).values(amount_eur_minor=1))
        db.session.commit()
    broken = run(app, "ledger", "verify")
    assert broken.exit_code == 1 and "differ" in broken.output
    rebuilt = run(app, "ledger", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    fixed = run(app, "ledger", "verify")
    assert fixed.exit_code == 0 and "Rollups match the ledger." in fixed.output
