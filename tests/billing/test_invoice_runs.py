"""Partner invoice runs: lines from an agreement's terms and the month's facts, one invoice per
agreement and campus, idempotent, safe when two runs race on PostgreSQL, and the CLI.

October 2026 is the month run (today: 22 November 2026). The base agreement (Microsoft
cybersecurity programme, both campuses, 2026-2027) pays 12,000.00 per campus in 12 instalments,
100.00 per admission, 300.00 per completion and 500.00 per fully certified learner; the base data
has no cohort sponsored by Microsoft, so only the instalment is due unless a test adds facts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg
import pytest
from sqlalchemy import func, select, text

from billing.agreements.models import Agreement
from billing.agreements.runs import (
    Terms,
    instalment,
    invoice_partners,
    month_end,
    parse_month,
)
from billing.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from core.catalogue.models import Certification, Course, CourseLevel, Track
from core.errors import InvalidInput
from core.extensions import db
from tenants.applications.models import Application, ApplicationStatus
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward
from tenants.scoping import all_campuses, campus_scope
from tests.support.data import ENTITY_CODES, INVOICES

OCTOBER = date(2026, 10, 1)
TODAY = date(2026, 11, 22)
KEY = "agreement:{id}:2026-10"
# Numbers taken by the base data: MOL 2026 → 2, ANT 2026 → 1.
NEXT = {"molenbeek": "MOL-2026-0003", "antwerp": "ANT-2026-0002"}


# --- helpers shared with the other billing test modules ------------------------------------


def run(app, month: date = OCTOBER, today: date = TODAY, **kwargs):
    with app.app_context():
        return invoice_partners(month, today=today, **kwargs)


def invoice_rows(app, month_key: str = "2026-10") -> list[Invoice]:
    """The partner invoices of runs of a month, every campus, lines loaded."""
    with app.app_context(), all_campuses(db.session):
        invoices = list(db.session.scalars(
            select(Invoice).where(Invoice.run_key.like(f"agreement:%:{month_key}"))
            .order_by(Invoice.campus_id, Invoice.number)))
        for invoice in invoices:
            invoice.lines  # noqa: B018 (loaded while every campus may be read)
        db.session.expunge_all()
    return invoices


def lines_of(invoice: Invoice) -> list[tuple[str, int, int]]:
    return [(line.description, line.quantity, line.unit_minor) for line in invoice.lines]


def sequence_of(app, code: str, year: int = 2026) -> int:
    """The last number an issuer gave in `year`."""
    with app.app_context():
        return db.session.scalar(
            text("SELECT s.last_number FROM invoice_sequences s JOIN billing_entities e "
                 "ON e.id = s.issuer_id WHERE e.code = :code AND s.year = :year"),
            {"code": code, "year": year})


def invoice_count(app) -> int:
    with app.app_context(), all_campuses(db.session):
        return db.session.scalar(select(func.count()).select_from(Invoice))


def add_agreement(app, base, *, campuses=("molenbeek", "antwerp"), partner_id=None, **terms
                  ) -> int:
    values = {"title": "Test programme", "currency": "EUR", "starts_on": date(2026, 9, 1),
              "ends_on": date(2027, 8, 31), "fixed_fee_minor": 0, "instalments": 1,
              "per_admitted_minor": 0, "per_completion_minor": 0, "per_certified_minor": 0,
              "track_id": base.catalogue["track"][0]} | terms
    with app.app_context():
        agreement = Agreement(partner_id=partner_id or base.partner_id, **values)
        agreement.campuses = list(db.session.scalars(
            select(Campus).where(Campus.slug.in_(campuses))))
        db.session.add(agreement)
        db.session.commit()
        return agreement.id


@dataclass
class Programme:
    """The cohorts of a sponsored programme at Molenbeek (see `build_programme`)."""

    cohort_id: int
    google_cohort_id: int
    certifications: list[int]


def _cohort(course_id: int, sponsor_id: int | None) -> Cohort:
    cohort = Cohort(course_id=course_id, starts_on=date(2026, 3, 2), ends_on=date(2026, 9, 30),
                    seats=30, language="fr", price_minor=0, currency="EUR",
                    funding=Funding.SPONSORED if sponsor_id else Funding.FREE,
                    sponsor_id=sponsor_id, status=CohortStatus.RUNNING)
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _admit(cohort: Cohort, name: str, decided_at: datetime,
           status: ApplicationStatus = ApplicationStatus.ADMITTED) -> None:
    db.session.add(Application(
        cohort_id=cohort.id, full_name=name, email=f"{name.lower()}@run.example",
        motivation="Into tech.", consent_given_at=datetime(2026, 2, 1, tzinfo=UTC),
        status=status, decided_at=decided_at))


def _learner(cohort: Cohort, name: str, completed_on: date | None,
             awards: dict[int, date] | None = None) -> None:
    learner = Learner(full_name=name, email=f"{name.lower()}@run.example")
    db.session.add(learner)
    db.session.flush()
    db.session.add(Enrolment(
        cohort_id=cohort.id, learner_id=learner.id,
        status=EnrolmentStatus.COMPLETED if completed_on else EnrolmentStatus.ENROLLED,
        completed_on=completed_on))
    for certification_id, awarded_on in (awards or {}).items():
        db.session.add(CertificationAward(learner_id=learner.id,
                                          certification_id=certification_id,
                                          awarded_on=awarded_on))
    db.session.flush()


def build_programme(app, base) -> Programme:
    """A Microsoft-sponsored cohort of CYB-101 (certifications SC-900 and AZ-500) at Molenbeek,
    and a Google-sponsored one whose facts never count for Microsoft.

    Admissions: Anna at 00:30 on 1 October in Brussels (22:30 UTC on 30 September), Ben on
    15 October; Carl at 00:30 on 1 November in Brussels (23:30 UTC on 31 October): November;
    Dora rejected in October. Google's cohort: Gus admitted in October.
    Completions and certifications (SC, AZ):
      Ada   completed 10 Oct; SC 1 Sep, AZ 20 Oct    → completion Oct, certified Oct
      Bob   completed 30 Sep; SC, AZ in September    → certified Sep
      Cem   completed 5 Oct; SC only                 → completion Oct, not certified
      Dan   completed 31 Aug; SC Aug, AZ 3 Oct       → certified Oct
      Eva   completed 15 Oct; SC, AZ in September    → completion Oct, certified Oct (completion)
      Fay   enrolled, SC and AZ in October           → no completion: not certified
      Gil   (Google's cohort) completed 12 Oct, both → not Microsoft's
    """
    sc, az = base.catalogue["certification"][:2]
    course_id = base.catalogue["course"][0]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        cohort = _cohort(course_id, base.partner_id)
        google = _cohort(course_id, base.other_partner_id)
        _admit(cohort, "Anna", datetime(2026, 9, 30, 22, 30, tzinfo=UTC))
        _admit(cohort, "Ben", datetime(2026, 10, 15, 9, tzinfo=UTC))
        _admit(cohort, "Carl", datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
        _admit(cohort, "Dora", datetime(2026, 10, 16, tzinfo=UTC), ApplicationStatus.REJECTED)
        _admit(google, "Gus", datetime(2026, 10, 16, tzinfo=UTC))
        _learner(cohort, "Ada", date(2026, 10, 10), {sc: date(2026, 9, 1), az: date(2026, 10, 20)})
        _learner(cohort, "Bob", date(2026, 9, 30), {sc: date(2026, 9, 2), az: date(2026, 9, 28)})
        _learner(cohort, "Cem", date(2026, 10, 5), {sc: date(2026, 10, 6)})
        _learner(cohort, "Dan", date(2026, 8, 31), {sc: date(2026, 8, 1), az: date(2026, 10, 3)})
        _learner(cohort, "Eva", date(2026, 10, 15), {sc: date(2026, 9, 3), az: date(2026, 9, 4)})
        _learner(cohort, "Fay", None, {sc: date(2026, 10, 1), az: date(2026, 10, 2)})
        _learner(google, "Gil", date(2026, 10, 12), {sc: date(2026, 10, 1), az: date(2026, 10, 2)})
        db.session.commit()
        return Programme(cohort.id, google.id, [sc, az])


def base_agreement_id(base) -> int:
    return base.catalogue["agreement"][0]


# --- months and instalments ---------------------------------------------------------------


def test_a_month_is_parsed_from_yyyy_mm_and_anything_else_is_refused():
    assert parse_month("2026-10") == OCTOBER
    assert parse_month(" 2026-01 ") == date(2026, 1, 1)
    for bad in ("2026-13", "2026-00", "26-10", "2026/10", "october", "", "2026-1", "1999-12"):
        with pytest.raises(InvalidInput) as error:
            parse_month(bad)
        assert "month" in error.value.fields, bad
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)


def _terms(**values) -> Terms:
    defaults = {"id": 1, "title": "T", "partner_id": 1, "track_id": None, "currency": "EUR",
                "starts_on": date(2026, 3, 15), "ends_on": date(2027, 3, 14),
                "fixed_fee_minor": 100000, "instalments": 3, "per_admitted_minor": 0,
                "per_completion_minor": 0, "per_certified_minor": 0}
    return Terms(**(defaults | values))


def test_instalments_are_due_in_the_first_months_and_add_up_to_the_fee():
    terms = _terms()
    due = [instalment(terms, date(2026, m, 1)) for m in range(2, 8)]
    assert due == [None, (1, 33333), (2, 33333), (3, 33334), None, None]
    assert sum(amount for _k, amount in filter(None, due)) == 100000
    assert instalment(_terms(fixed_fee_minor=0), date(2026, 3, 1)) is None
    assert instalment(_terms(instalments=1), date(2026, 3, 1)) == (1, 100000)
    # Across a year end: the 12th instalment of a January start falls in December.
    yearly = _terms(starts_on=date(2026, 1, 1), instalments=12, fixed_fee_minor=1200001)
    assert instalment(yearly, date(2026, 12, 1)) == (12, 100001)
    assert instalment(yearly, date(2027, 1, 1)) is None


# --- the run --------------------------------------------------------------------------------


def test_run_invoices_each_campus_its_instalment_when_nothing_else_happened(app, base):
    result = run(app)
    assert sorted(result.created) == sorted(NEXT.values())
    assert result.skipped == 0 and result.total == 2 and result.done == 2
    invoices = {i.number: i for i in invoice_rows(app)}
    key = KEY.format(id=base_agreement_id(base))
    for slug, number in NEXT.items():
        invoice = invoices[number]
        assert invoice.campus_id == base.campus_ids[slug]
        assert (invoice.kind, invoice.status) == (InvoiceKind.PARTNER, InvoiceStatus.ISSUED)
        assert invoice.run_key == key and invoice.partner_id == base.partner_id
        assert invoice.agreement_id == base_agreement_id(base)
        assert (invoice.period_start, invoice.period_end) == (OCTOBER, date(2026, 10, 31))
        assert invoice.issued_on == TODAY and invoice.issuer_details["code"] == ENTITY_CODES[slug]
        assert lines_of(invoice) == [("Microsoft cybersecurity programme: fixed fee, instalment "
                                      "10 of 12 (October 2026)", 1, 100000)]
        # Microsoft has a valid Irish VAT number: EU reverse charge, no Belgian VAT.
        assert invoice.reverse_charge and invoice.total_minor == 100000


def test_run_lines_count_the_facts_of_the_month_at_each_campus(app, base):
    build_programme(app, base)
    result = run(app)
    assert sorted(result.created) == sorted(NEXT.values())
    invoices = {i.number: i for i in invoice_rows(app)}
    assert lines_of(invoices[NEXT["molenbeek"]]) == [
        ("Microsoft cybersecurity programme: fixed fee, instalment 10 of 12 (October 2026)",
         1, 100000),
        ("Learners admitted in October 2026", 2, 10000),  # Anna (Brussels time) and Ben
        ("Learners who completed their course in October 2026", 3, 30000),  # Ada, Cem, Eva
        ("Learners fully certified in October 2026", 3, 50000),  # Ada, Dan, Eva
    ]
    assert invoices[NEXT["molenbeek"]].subtotal_minor == 100000 + 20000 + 90000 + 150000
    # Antwerp did nothing for the programme in October: only its instalment.
    assert len(invoices[NEXT["antwerp"]].lines) == 1


def test_carl_admitted_after_midnight_in_brussels_counts_in_november(app, base):
    build_programme(app, base)
    run(app, month=date(2026, 11, 1), today=date(2026, 12, 2))
    november = {i.campus_id: i for i in invoice_rows(app, "2026-11")}
    molenbeek = november[base.campus_ids["molenbeek"]]
    assert ("Learners admitted in November 2026", 1, 10000) in lines_of(molenbeek)
    # 11 of 12 in November: the instalment follows the agreement's months.
    assert lines_of(molenbeek)[0][0].endswith("instalment 11 of 12 (November 2026)")


def test_a_second_run_creates_nothing_and_takes_no_number(app, base):
    build_programme(app, base)
    first = run(app)
    before = invoice_count(app), sequence_of(app, "MOL"), sequence_of(app, "ANT")
    second = run(app)
    assert second.created == [] and second.skipped == len(first.created) == 2
    assert (invoice_count(app), sequence_of(app, "MOL"), sequence_of(app, "ANT")) == before
    assert before[1:] == (3, 2)


def test_a_pair_with_no_line_gets_no_invoice(app, base):
    # Only per-fact terms, at Antwerp, where nothing happened in October.
    agreement_id = add_agreement(app, base, campuses=("antwerp",), per_admitted_minor=5000,
                                 per_completion_minor=7000)
    result = run(app)
    assert result.total == 3 and result.empty == 1 and len(result.created) == 2
    assert KEY.format(id=agreement_id) not in {i.run_key for i in invoice_rows(app)}


def test_agreements_outside_the_month_are_not_invoiced(app, base):
    later = add_agreement(app, base, starts_on=date(2026, 11, 1), fixed_fee_minor=50000)
    ended = add_agreement(app, base, starts_on=date(2026, 1, 1), ends_on=date(2026, 9, 30),
                          fixed_fee_minor=50000)
    result = run(app)
    assert result.total == 2
    assert {i.agreement_id for i in invoice_rows(app)} == {base_agreement_id(base)}
    assert later not in {i.agreement_id for i in invoice_rows(app)} and ended


def test_an_agreement_without_a_track_counts_every_sponsored_cohort(app, base):
    build_programme(app, base)
    agreement_id = add_agreement(app, base, campuses=("molenbeek",), track_id=None,
                                 per_admitted_minor=1000)
    run(app)
    invoice = next(i for i in invoice_rows(app) if i.agreement_id == agreement_id)
    assert lines_of(invoice) == [("Learners admitted in October 2026", 2, 1000)]


def test_facts_of_another_track_do_not_count(app, base):
    with app.app_context():
        other = Track(slug="data", name="Data")
        course = Course(code="DAT-101", track=other, hours=200, level=CourseLevel.BEGINNER,
                        title_en="Data analyst",
                        certifications=[Certification(issuer="T", exam_code="DA-1", name="DA")])
        db.session.add(course)
        db.session.commit()
        course_id = course.id
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        cohort = _cohort(course_id, base.partner_id)
        _admit(cohort, "Ines", datetime(2026, 10, 5, tzinfo=UTC))
        db.session.commit()
    run(app)
    molenbeek = next(i for i in invoice_rows(app)
                     if i.campus_id == base.campus_ids["molenbeek"])
    assert len(molenbeek.lines) == 1  # the instalment only


def test_a_month_that_is_not_over_is_refused_and_nothing_is_made(app, base):
    before = invoice_count(app)
    for month in (date(2026, 11, 1), date(2027, 1, 1)):
        with pytest.raises(InvalidInput) as error:
            run(app, month=month)
        assert "not over" in error.value.message
    assert invoice_count(app) == before


def test_changing_the_terms_leaves_issued_invoices_as_they_were(app, base):
    run(app)
    with app.app_context():
        agreement = db.session.get(Agreement, base_agreement_id(base))
        agreement.fixed_fee_minor = 2400000
        agreement.per_admitted_minor = 99999
        db.session.commit()
    october = {i.number: lines_of(i) for i in invoice_rows(app)}
    assert october[NEXT["molenbeek"]][0][2] == 100000
    assert run(app).created == []  # October stays as issued
    run(app, month=date(2026, 11, 1), today=date(2026, 12, 1))
    november = invoice_rows(app, "2026-11")
    assert {lines_of(i)[0][2] for i in november} == {200000}  # the new terms, from November


def test_a_failure_keeps_the_invoices_issued_before_it_and_a_rerun_finishes(app, base,
                                                                            monkeypatch):
    from billing.invoices import services

    real = services.issue_invoice
    calls = []

    def failing_second(invoice, **kwargs):
        calls.append(invoice.run_key)
        if len(calls) == 2:
            raise RuntimeError("the machine fell over")
        return real(invoice, **kwargs)

    monkeypatch.setattr(services, "issue_invoice", failing_second)
    with pytest.raises(RuntimeError):
        run(app)
    # Campuses go by name: Antwerp's invoice was issued and committed before Molenbeek's failed.
    assert [i.number for i in invoice_rows(app)] == [NEXT["antwerp"]]
    assert sequence_of(app, "MOL") == 2  # the failed attempt took no number
    monkeypatch.setattr(services, "issue_invoice", real)
    result = run(app)
    assert result.created == [NEXT["molenbeek"]] and result.skipped == 1


def test_base_invoices_stay_untouched_by_a_run(app, base):
    run(app)
    with app.app_context(), all_campuses(db.session):
        numbers = set(db.session.scalars(select(Invoice.number)))
    assert set(INVOICES.values()) <= numbers


# --- two runs racing on PostgreSQL ----------------------------------------------------------


@pytest.fixture
def committed_agreements(postgres, postgresql_app):
    """Three more agreements with a fixed fee on both campuses, committed for real (no test
    transaction), and everything a run makes removed afterwards as the superuser."""
    with psycopg.connect(_libpq(postgres.superuser_url), autocommit=True) as conn:
        sequences = conn.execute("SELECT issuer_id, year, last_number FROM invoice_sequences"
                                 ).fetchall()
        agreements_before = {row[0] for row in conn.execute("SELECT id FROM agreements")}
    with postgresql_app.app_context():
        campuses = list(db.session.scalars(select(Campus).order_by(Campus.slug)))
        partner_id = db.session.scalar(text("SELECT id FROM partners WHERE slug = 'microsoft'"))
        for n in range(3):
            agreement = Agreement(title=f"Race {n}", partner_id=partner_id, currency="EUR",
                                  starts_on=date(2026, 10, 1), ends_on=date(2027, 9, 30),
                                  fixed_fee_minor=60000 + n, instalments=6)
            agreement.campuses = campuses
            db.session.add(agreement)
        db.session.commit()
        db.session.remove()
    yield
    with psycopg.connect(_libpq(postgres.superuser_url), autocommit=True) as conn:
        conn.execute("DELETE FROM invoice_lines WHERE (campus_id, invoice_id) IN (SELECT "
                     "campus_id, id FROM invoices WHERE run_key LIKE 'agreement:%')")
        conn.execute("DELETE FROM invoices WHERE run_key LIKE 'agreement:%'")
        conn.execute("DELETE FROM agreement_campuses WHERE NOT (agreement_id = ANY(%s))",
                     (list(agreements_before),))
        conn.execute("DELETE FROM agreements WHERE NOT (id = ANY(%s))",
                     (list(agreements_before),))
        conn.execute("DELETE FROM invoice_sequences")
        for issuer_id, year, last_number in sequences:
            conn.execute("INSERT INTO invoice_sequences (issuer_id, year, last_number) "
                         "VALUES (%s, %s, %s)", (issuer_id, year, last_number))


def _libpq(url: str) -> str:
    from tests.isolation.test_database_layers import libpq

    return libpq(url)


def test_two_runs_racing_on_postgresql_issue_each_invoice_once_without_gaps(
        postgres, postgresql_app, committed_agreements):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker() -> None:
        try:
            with postgresql_app.app_context():
                try:
                    barrier.wait(timeout=30)
                    results.append(invoice_partners(OCTOBER, today=TODAY))
                finally:
                    db.session.remove()
        except Exception as error:  # reported below, with the other thread's outcome
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2

    with psycopg.connect(_libpq(postgres.superuser_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT e.code, i.sequence, i.number, i.run_key, i.campus_id FROM invoices i "
            "JOIN billing_entities e ON e.id = i.issuer_id "
            "WHERE i.run_key LIKE 'agreement:%' ORDER BY e.code, i.sequence").fetchall()
        last = dict(conn.execute("SELECT e.code, s.last_number FROM invoice_sequences s JOIN "
                                 "billing_entities e ON e.id = s.issuer_id WHERE s.year = 2026"
                                 ).fetchall())
    pairs = 4 * 2  # the base agreement and three more, on both campuses
    assert len(rows) == pairs
    assert len({(r[4], r[3]) for r in rows}) == pairs  # one invoice per agreement and campus
    created = results[0].created + results[1].created
    assert sorted(created) == sorted(r[2] for r in rows)  # each made by exactly one run
    assert results[0].skipped + results[1].skipped == pairs
    for code, first in (("MOL", 3), ("ANT", 2)):
        sequences = [r[1] for r in rows if r[0] == code]
        assert sequences == list(range(first, first + 4)), (code, sequences)  # no gap
        assert last[code] == first + 3


# --- the CLI --------------------------------------------------------------------------------


def cli(app, monkeypatch, *args, today: date = TODAY):
    import billing.agreements.cli as module

    monkeypatch.setattr(module, "utcnow", lambda: datetime.combine(today, datetime.min.time(),
                                                                   tzinfo=UTC))
    return app.test_cli_runner().invoke(args=["billing", "invoice-partners", *args])


def test_cli_runs_a_month_with_a_progress_bar_and_a_summary(app, db_session, base,
                                                             monkeypatch):
    result = cli(app, monkeypatch, "--month", "2026-10")
    assert result.exit_code == 0, result.output
    assert "Invoicing partners for 2026-10" in result.output
    assert (f"2026-10: 2 created ({NEXT['antwerp']}, {NEXT['molenbeek']}), 0 skipped "
            "(already issued), 0 with nothing to invoice.") in result.output
    again = cli(app, monkeypatch, "--month", "2026-10")
    assert again.exit_code == 0, again.output
    assert "2026-10: 0 created, 2 skipped (already issued)" in again.output


def test_cli_defaults_to_last_month(app, db_session, base, monkeypatch):
    result = cli(app, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "2026-10: 2 created" in result.output


@pytest.mark.parametrize(("month", "message"), [
    ("2026-13", "Give a month as YYYY-MM"),
    ("october", "Give a month as YYYY-MM"),
    ("2026-11", "2026-11 is not over yet"),
])
def test_cli_refuses_a_bad_month_with_exit_code_2(app, db_session, base, monkeypatch, month,
                                                  message):
    before = invoice_count(app)
    result = cli(app, monkeypatch, "--month", month)
    assert result.exit_code == 2
    assert message in result.output and "--month" in result.output
    assert invoice_count(app) == before


def test_cli_reports_an_error_and_exits_1(app, db_session, base, monkeypatch):
    from billing.invoices import services

    def refuse(**_kwargs):
        raise InvalidInput("The invoice is not valid.", {"lines": ["bad"]})

    monkeypatch.setattr(services, "create_invoice", refuse)
    result = cli(app, monkeypatch, "--month", "2026-10")
    assert result.exit_code == 1
    assert "Error: The invoice is not valid." in result.output


def test_the_summary_names_at_most_the_numbers_asked_for():
    from billing.agreements.runs import RunResult, run_summary

    result = RunResult(created=[f"MOL-2026-{n:04d}" for n in range(1, 31)], skipped=2,
                       month=OCTOBER, total=33, done=33, empty=1)
    assert run_summary(result).startswith("2026-10: 30 created (MOL-2026-0001, ")
    short = run_summary(result, limit=2)
    assert short == ("2026-10: 30 created (MOL-2026-0001, MOL-2026-0002, …), 2 skipped "
                     "(already issued), 1 with nothing to invoice.")
    stored = result.as_dict()  # kept in the session cookie: bounded
    assert len(stored["created"]) == 20 and stored["created_count"] == 30
