"""The pure parts of `make soak` (bench/soak.py): its figures, how it reconciles the answers of
create requests with the rows in the database, what it reads from an outage's polls, the
webhook plan, and the tables it prints. The soak itself runs only under `make soak`."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.soak import (
    Answer,
    Check,
    Intended,
    PhaseResult,
    Probe,
    Row,
    Sample,
    outage,
    percentile,
    phase_report,
    reconcile,
    summarize,
    table,
    webhook_plan,
    write_checks,
)

SENT = Intended(campus_id=1, full_name="Soak p1 0 0", phone="+32 470 00 00000")


def row(email: str, learner_id: int = 10, **changes) -> Row:
    values = {"campus_id": 1, "id": learner_id, "email": email, "full_name": SENT.full_name,
              "phone": SENT.phone, "consent_set": True, "timestamps_set": True, **changes}
    return Row(**values)


# ---- figures -----------------------------------------------------------------------------------


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3, 1, 2], 1.0) == 3
    assert percentile([], 0.5) == 0.0


def test_summary_counts_failures_server_errors_and_unanswered_requests_apart():
    samples = [Sample("read", 0.0, 10.0, 200, True), Sample("read", 0.1, 20.0, 200, False),
               Sample("write", 0.2, 30.0, 500, False), Sample("write", 0.3, 5000.0, None, False)]
    figures = summarize(samples, 2.0)
    assert (figures.requests, figures.rps) == (4, 2.0)
    assert (figures.failures, figures.server_errors, figures.no_answer) == (3, 1, 1)
    assert figures.statuses == {"200": 2, "500": 1, "none": 1}
    # The unanswered request's wait is no latency of the server.
    assert (figures.p50_ms, figures.p99_ms) == (20.0, 30.0)


# ---- reconciling writes ------------------------------------------------------------------------


def test_every_201_found_as_its_row_reconciles_cleanly():
    result = reconcile({"a@x.test": SENT}, {"a@x.test": Answer(201, 10)}, [row("a@x.test")])
    assert (result.acknowledged, result.rows) == (1, 1)
    assert not (result.lost or result.duplicates or result.unknown_outcome or result.unexplained
                or result.incomplete)
    assert all(check.passed for check in write_checks(result, unknown_allowed=False))


def test_a_201_without_its_row_is_a_lost_write():
    intended = {"a@x.test": SENT, "b@x.test": SENT}
    answers = {"a@x.test": Answer(201, 10), "b@x.test": Answer(201, 11)}
    result = reconcile(intended, answers, [row("a@x.test"), row("b@x.test", learner_id=99)])
    assert result.lost == ["b@x.test"]  # its row has another id than the one answered
    checks = {c.name: c.passed for c in write_checks(result, unknown_allowed=True)}
    assert checks["every 201 is its row in the database (no lost write)"] is False


def test_two_rows_for_one_email_are_a_duplicate():
    result = reconcile({"a@x.test": SENT}, {"a@x.test": Answer(201, 10)},
                       [row("a@x.test", 10), row("a@x.test", 11)])
    assert result.duplicates == ["a@x.test"] and not result.lost
    assert not all(c.passed for c in write_checks(result, unknown_allowed=True))


def test_a_row_whose_request_got_no_answer_is_an_unknown_outcome():
    intended = {"a@x.test": SENT, "b@x.test": SENT, "c@x.test": SENT}
    answers = {"a@x.test": Answer(None), "b@x.test": Answer(502), "c@x.test": Answer(None)}
    result = reconcile(intended, answers, [row("a@x.test", 10), row("b@x.test", 11)])
    assert result.unknown_outcome == ["a@x.test", "b@x.test"]  # c failed and left nothing
    assert not (result.lost or result.unexplained or result.incomplete)
    allowed = write_checks(result, unknown_allowed=True)
    assert all(check.passed for check in allowed)
    assert "2 row(s) in doubt" in allowed[-1].detail
    # Where nothing may fail (the steady phase), a row without its 201 fails the phase.
    assert not all(check.passed for check in write_checks(result, unknown_allowed=False))


def test_a_row_nobody_asked_for_or_whose_request_was_refused_is_unexplained():
    result = reconcile({"a@x.test": SENT}, {"a@x.test": Answer(409)},
                       [row("a@x.test"), row("stranger@x.test", 12)])
    assert result.unexplained == ["a@x.test", "stranger@x.test"]
    assert not all(c.passed for c in write_checks(result, unknown_allowed=True))


@pytest.mark.parametrize("changes", [{"full_name": None}, {"phone": "+32 470 99 99999"},
                                     {"consent_set": False}, {"timestamps_set": False},
                                     {"campus_id": 2}])
def test_a_row_not_exactly_as_sent_is_incomplete(changes):
    result = reconcile({"a@x.test": SENT}, {"a@x.test": Answer(None)},
                       [row("a@x.test", **changes)])
    assert result.incomplete == ["a@x.test"]
    assert not all(c.passed for c in write_checks(result, unknown_allowed=True))


# ---- an outage seen by a poller ----------------------------------------------------------------


def test_outage_keeps_the_polls_made_while_down_and_the_time_to_the_first_200():
    probes = [Probe(0.0, 0.1, 200),  # before
              Probe(0.95, 1.2, 503),  # straddles the stop: not counted as "while down"
              Probe(1.1, 1.2, 503), Probe(1.5, 1.6, 503),
              Probe(2.9, 3.1, 503),  # straddles the return
              Probe(3.0, 3.2, None), Probe(3.3, 3.8, 200), Probe(3.9, 4.0, 200)]
    seen = outage(probes, down_at=1.0, up_at=3.0)
    assert seen.during == {"503": 2}
    assert seen.recovered_after == pytest.approx(0.8)


def test_outage_never_recovered_and_an_answer_before_the_return_counts_as_zero():
    assert outage([Probe(1.1, 1.2, 503)], 1.0, 3.0).recovered_after is None
    # A 200 that ends before our own connection noticed the database back: recovered at once.
    assert outage([Probe(2.9, 2.95, 200)], 1.0, 3.0).recovered_after == 0.0


# ---- the webhook plan --------------------------------------------------------------------------


def test_webhook_plan_pays_each_order_once_and_repeats_a_fifth_of_the_deliveries():
    orders = [(1, n, 150_000) for n in range(1, 401)]
    plan = webhook_plan(orders, 1_000, 0.20, "run1")
    ids = [event_id for event_id, _kind, _obj in plan]
    distinct = {(event_id, kind, repr(obj)) for event_id, kind, obj in plan}
    assert len(plan) == 1_000
    assert len(set(ids)) == len(distinct) == 800  # a repeated id is the very same event
    kinds = Counter(kind for _e, kind in {(e, k) for e, k, _o in plan})
    assert kinds == {"payment_intent.succeeded": 600, "charge.succeeded": 200}
    paying = {obj["metadata"]["order_id"] for e, kind, obj in plan
              if kind == "payment_intent.succeeded" and "_paid_" in e}
    assert paying == {str(n) for n in range(1, 401)}
    assert all(obj["id"] == f"pi_soak_run1_{obj['metadata']['order_id']}"
               for _e, kind, obj in plan if kind == "payment_intent.succeeded")
    assert ids != sorted(ids)  # shuffled: duplicates race their originals
    assert webhook_plan(orders, 1_000, 0.20, "run1") == plan  # the same plan every run


def test_webhook_plan_refuses_too_few_orders():
    with pytest.raises(ValueError, match="cannot make"):
        webhook_plan([(1, 1, 100)], 1_000, 0.20, "run1")


# ---- what is printed ---------------------------------------------------------------------------


def test_phase_report_and_table_show_figures_and_name_the_failed_checks():
    figures = summarize([Sample("read", 0.0, 12.0, 200, True),
                         Sample("write", 0.1, 40.0, 500, False)], 1.0)
    good = PhaseResult("1 steady load 60 s", figures, [Check("no lost write", True)])
    bad = PhaseResult("2 worker SIGKILL", figures,
                      [Check("no lost write", True), Check("no 5xx", False, "1")], ["a note"])
    report = phase_report(bad)
    assert "2 requests in 1.0 s (2.0 req/s), failures 1, 5xx 1" in report
    assert "a note" in report and "[FAIL] no 5xx: 1" in report and "[pass] no lost write" in report
    lines = table([good, bad]).splitlines()
    assert lines[0].split()[:3] == ["phase", "requests", "req/s"]
    assert lines[1].split()[-2:] == ["1/1", "pass"]
    assert lines[2].split()[-2:] == ["1/2", "FAIL"]
    assert lines[-1] == "FAILED 2 worker SIGKILL: no 5xx (1)"
    assert table([good]).splitlines()[-1] == "all checks passed"
