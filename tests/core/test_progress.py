"""Progress of long CLI work (core.progress, core.cli.progress_bar): the demo seed, invoice and
royalty runs, FX imports, ledger rebuilds, campus exports and imports.

Each command reports every item of every stage (the counts it passes sum to the stage's total,
and the totals are the real numbers of items); progress goes to stderr, so the command's own
output (stdout) is what it was; on a terminal the bar shows its label, position, percent; in
logs each stage is one line.
"""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

import billing.agreements.cli
import billing.ledger.cli
import billing.royalties.cli
import core.cli
import tenants.campuses.cli
from billing.currencies.models import FxRate
from core.cli import progress_bar
from core.extensions import db
from core.progress import no_progress, tracked
from tenants.campuses.models import Campus
from tenants.campuses.transfer import row_counts

CLI_MODULES = (core.cli, billing.agreements.cli, billing.ledger.cli, tenants.campuses.cli)
TODAY = datetime(2026, 11, 22, 9, tzinfo=UTC)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Recorder:
    """Wraps the real progress bar of the commands: every stage, its total and what was
    reported, in order."""

    def __init__(self) -> None:
        self.stages: list[dict] = []

    def factory(self, **options):
        real = progress_bar(**options)

        @contextmanager
        def stage(label: str, total: int):
            record = {"label": label, "total": total, "advanced": 0, "calls": 0}
            self.stages.append(record)
            with real(label, total) as advance:
                def counting(n_items: int) -> None:
                    record["advanced"] += n_items
                    record["calls"] += 1
                    advance(n_items)

                yield counting

        return stage

    def totals(self) -> dict[str, int]:
        return {s["label"]: s["total"] for s in self.stages}

    def assert_complete(self) -> None:
        assert self.stages, "no progress was reported"
        for s in self.stages:
            assert s["advanced"] == s["total"], s


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    recorder = Recorder()
    for module in CLI_MODULES:
        monkeypatch.setattr(module, "progress_bar", recorder.factory)
    for module in (billing.agreements.cli, billing.royalties.cli):
        monkeypatch.setattr(module, "utcnow", lambda: TODAY)
    return recorder


def invoke(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=list(args), **kwargs)


# --- the helper ---------------------------------------------------------------------------


def test_on_a_terminal_the_bar_shows_label_position_and_percent(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(core.cli, "progress_stream", lambda: terminal)
    with progress_bar()("Importing rates", 4) as advance:
        advance(1)
        half = terminal.getvalue()
        advance(3)
    shown = terminal.getvalue()
    assert "Importing rates" in half and "1/4" in half and "25%" in half
    assert "4/4" in shown and "100%" in shown and "[####" in shown
    assert shown.endswith("\n")  # the finished bar stays on its own line


def test_in_logs_each_stage_is_one_line_with_its_count_and_time(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(core.cli, "progress_stream", lambda: log)
    progress = progress_bar()
    with progress("Seeding demo data", 3) as advance:
        for _ in range(3):
            advance(1)
    with progress("Nothing to do", 0):
        pass
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    assert lines[0].startswith("Seeding demo data: 3/3 (100%) in ")
    assert lines[1].startswith("Nothing to do: 0/0 in ")


def test_in_logs_a_long_stage_says_how_far_it_is_and_a_failed_one_where_it_stopped(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(core.cli, "progress_stream", lambda: log)
    with pytest.raises(RuntimeError), progress_bar(log_every=0)("Exporting", 10) as advance:
        advance(4)
        raise RuntimeError("disk full")
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("Exporting: 4/10 (40%), about ") and lines[0].endswith(" left")
    assert lines[1].startswith("Exporting: 4/10 (40%), stopped after ")


def test_tracked_yields_every_item_and_reports_each_one():
    reported: list[tuple[str, int, int]] = []

    @contextmanager
    def recording(label: str, total: int):
        yield lambda n: reported.append((label, total, n))

    assert list(tracked(["a", "b", "c"], recording, "Letters")) == ["a", "b", "c"]
    assert reported == [("Letters", 3, 1)] * 3
    with no_progress("Nothing", 2) as advance:
        advance(2)  # nobody watches: a no-op


# --- the commands -------------------------------------------------------------------------


def test_invoice_run_reports_each_agreement_and_campus_and_prints_the_same_summary(
        app, db_session, base, recorder):
    result = invoke(app, "billing", "invoice-partners", "--month", "2026-10")
    assert result.exit_code == 0, result.output
    assert recorder.totals() == {"Invoicing partners for 2026-10": 2}  # 1 agreement x 2 campuses
    recorder.assert_complete()
    assert result.stdout.startswith("2026-10: 2 created (")
    assert result.stdout.endswith(", 0 skipped (already issued), 0 with nothing to invoice.\n")
    assert "Invoicing partners" not in result.stdout  # progress goes to stderr
    assert result.stderr.startswith("Invoicing partners for 2026-10: 2/2 (100%) in ")


def test_royalty_run_reports_each_campus(app, db_session, base, recorder):
    result = invoke(app, "billing", "royalties", "--month", "2026-10")
    assert result.exit_code == 0, result.output
    assert recorder.totals() == {"Royalty statements for 2026-10": 2}
    recorder.assert_complete()
    assert result.stdout == ("2026-10: 0 created, 0 skipped (already issued), 2 with nothing to "
                             "invoice.\n")


def test_the_bar_of_a_run_is_drawn_on_a_terminal(app, db_session, base, recorder, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(core.cli, "progress_stream", lambda: terminal)
    result = invoke(app, "billing", "invoice-partners", "--month", "2026-10")
    assert result.exit_code == 0, result.output
    drawn = terminal.getvalue()
    assert "Invoicing partners for 2026-10" in drawn and "2/2" in drawn and "100%" in drawn
    assert result.stderr == ""  # the bar went to the terminal, nothing else to stderr


def test_fx_import_reports_each_rate(app, db_session, base, recorder, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2026-11-10,MAD,10.90\n2026-11-11,MAD,10.91\n"
                    "2026-11-12,USD,1.08\n", encoding="utf-8")
    result = invoke(app, "fx", "import", str(path))
    assert result.exit_code == 0, result.output
    assert recorder.totals() == {"Importing rates": 3}
    recorder.assert_complete()
    assert result.stdout == "Imported 3 rate(s).\n"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FxRate).where(
            FxRate.day >= date(2026, 11, 10))) == 3


def test_a_refused_fx_import_stops_its_bar_and_imports_nothing(app, db_session, base, recorder,
                                                               tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2026-11-10,MAD,10.90\n2026-11-11,MAD,-1\n",
                    encoding="utf-8")
    result = invoke(app, "fx", "import", str(path))
    assert result.exit_code == 1 and "Nothing was imported." in result.stderr
    assert recorder.stages == []  # refused while reading the file, before any work


def test_ledger_rebuild_reports_each_campus(app, db_session, base, recorder):
    result = invoke(app, "ledger", "rebuild")
    assert result.exit_code == 0, result.output
    with app.app_context():
        campuses = db.session.scalar(select(func.count()).select_from(Campus))
    assert recorder.totals() == {"Rebuilding rollups": campuses}
    recorder.assert_complete()
    assert result.stdout == f"Rollups rebuilt for {campuses} campuses.\n"


def test_campus_export_and_import_report_every_row_of_every_table(app, db_session, base,
                                                                  recorder, tmp_path):
    path = tmp_path / "molenbeek.json"
    exported = invoke(app, "campus", "export", "--slug", "molenbeek", str(path))
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.startswith(f"Campus molenbeek exported to {path} (schema ")
    document = json.loads(path.read_text(encoding="utf-8"))
    counts = row_counts(document)
    assert recorder.totals() == counts  # one stage per table, its rows as total
    recorder.assert_complete()
    assert sum(counts.values()) > 20
    # Loaded back here as another campus: its staff and billing entity renamed (they are unique).
    for user in document["attached"]["users"]:
        user["email"] = "copy-" + user["email"]
    for entity in document["attached"]["billing_entities"]:
        entity["code"] = "MBX"
    path.write_text(json.dumps(document), encoding="utf-8")
    recorder.stages.clear()
    imported = invoke(app, "campus", "import", str(path), "--as-slug", "molenbeek2", "--dry-run")
    assert imported.exit_code == 0, imported.output
    assert "Dry run: campus molenbeek2 would be imported; nothing was written." in imported.stdout
    assert {s["label"]: s["total"] for s in recorder.stages if s["total"]} == {
        name: rows for name, rows in counts.items() if rows}
    recorder.assert_complete()
    assert "learners: 3/3 (100%) in " in imported.stderr


def test_demo_seed_reports_each_seeder_and_prints_the_sign_ins(app, db_session, recorder,
                                                              monkeypatch):
    # Light seeders in place of the real ones (tests/core/test_cli.py runs those): the command
    # runs each in order, one item of progress each, and prints what they return.
    ran: list[str] = []

    def seeder(name: str):
        def seed(password: str) -> list[str]:
            ran.append(name)
            return [f"{name}@campusflow.test  http://{name}.<domain>"]
        return seed

    monkeypatch.setitem(app.extensions, "campusflow.seeders", [seeder("a"), seeder("b"),
                                                               seeder("c")])
    result = invoke(app, "seed-demo")
    assert result.exit_code == 0, result.output
    assert ran == ["a", "b", "c"]
    assert recorder.totals() == {"Seeding demo data": 3}
    recorder.assert_complete()
    assert result.stdout == (f"Demo data ready. Sign-ins (password: "
                             f"{app.config['DEMO_PASSWORD']}):\n"
                             "  a@campusflow.test  http://a.localhost:5000\n"
                             "  b@campusflow.test  http://b.localhost:5000\n"
                             "  c@campusflow.test  http://c.localhost:5000\n")
    assert result.stderr.startswith("Seeding demo data: 3/3 (100%) in ")
