"""`make soak`: the app under sustained load and under failures, checked against its database.

    python -m bench.soak

A throwaway PostgreSQL on 127.0.0.1 (migrated, a small bench world: 5 campuses, 2,000
learners, 20,000 ledger entries) and gunicorn (`gunicorn.conf.py`, 4 sync workers, production
settings, the app role under row-level security), then four phases, each bounded in time:

1. **steady load**: 60 s of mixed reads and writes on 64 connections (Python threads, one HTTP
   session each): learners created through `POST /api/v1/learners` (a unique e-mail per
   request), read back through the API and the record page, lists, dashboards. No 5xx, every
   body as expected, and the 201s equal the rows the phase created (superuser query): none
   lost, none unexplained, no duplicate, every row as sent.
2. **a worker killed**: one gunicorn worker gets SIGKILL in the middle of the same load. Under
   0.5 % of requests fail; every 201 is in the database; a row whose request got no answer is
   an "unknown outcome" (reported, and checked complete); gunicorn starts a new worker.
3. **PostgreSQL restarted**: the server is stopped (`pg_ctl stop -m fast`) under load, kept
   down 3 s and started again with the same options. `/readyz` (polled every 100 ms) says 503
   all the while, and within 5 s of PostgreSQL accepting connections again `/readyz` says 200
   and an API read succeeds, with the same gunicorn processes (no restart); no 5xx after that.
4. **webhooks**: 1,000 signed Stripe events, 20 % of them duplicate deliveries, sent on 64
   connections at once to `POST /webhooks/stripe`, for 400 open orders made beforehand through
   the API. Every delivery 200; each order paid once with exactly one ledger entry;
   `stripe_events` holds each distinct event id once; the rollups still equal the ledger.

Each phase prints its figures; the run ends with one table and exits 1 if any check failed.
Sign-in throttling is left on (production settings): it counts failed sign-ins only, and the
soak signs in once per identity, so it cannot interfere; a 429 would count as a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import requests
from flask_migrate import upgrade

from bench.data import Scale, add_entries, generate_world
from bench.load import BenchError, bearer_token, sign_in
from bench.run import DOMAIN, _app_env, _in_process_app, _superuser
from bench.servers import gunicorn, worker_pids
from billing.ledger.services import verify_rollups
from core.extensions import db
from tenants.scoping import all_campuses
from tests.support.postgres import APP, WRAPPER, ThrowawayPostgres, postgres_bindir, start_postgres
from tests.support.stripe_server import event_payload, sign_payload

SCALE = Scale(campuses=5, learners=2_000, entries=20_000)
WORKERS = 4
CONNECTIONS = 64
STEADY_SECONDS = 60
KILL_SECONDS, KILL_AT = 20, 8
RESTART_AT, DOWN_SECONDS, RESTART_LIMIT = 5, 3.0, 45
AFTER_RECOVERY_SECONDS = 5.0
PROBE_INTERVAL = 0.1
FAILED_MAX_PERCENT = 0.5
RECOVERY_MAX_SECONDS = 5.0
ORDERS = 400
WEBHOOK_DELIVERIES, DUPLICATE_SHARE = 1_000, 0.20
WEBHOOK_LIMIT = 90
REQUEST_TIMEOUT = 15.0
OVERALL_LIMIT = 480  # seconds: the whole run, set-up included, then everything is stopped
WEBHOOK_SECRET = "whsec_soak_only"  # noqa: S105 (a throwaway server on loopback)
READ_LEARNERS_PER_CAMPUS = 100
# Operation → weight in the mixed load (a quarter writes).
MIX = {"create learner": 25, "GET /api/v1/learners": 20, "GET /api/v1/learners/<id>": 20,
       "learners page": 15, "learner record page": 10, "campus dashboard": 10}


def _log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- figures (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request: what it was, when it started (monotonic s), how long it took, its status
    (None: no answer at all, e.g. the connection was reset or timed out) and whether the
    answer was the expected one (status and body)."""

    kind: str
    started: float
    elapsed_ms: float
    status: int | None
    ok: bool


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    rps: float
    failures: int  # no answer, an unexpected status or an unexpected body
    server_errors: int  # 5xx
    no_answer: int
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` from 0 to 1) of `values`; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without floats drifting
    return ordered[min(len(ordered), int(rank)) - 1]


def summarize(samples: Sequence[Sample], seconds: float) -> Figures:
    """A phase's figures; latencies are those of the requests that got an answer."""
    answered = [s.elapsed_ms for s in samples if s.status is not None]
    statuses = Counter("none" if s.status is None else str(s.status) for s in samples)
    return Figures(
        requests=len(samples), seconds=round(seconds, 1),
        rps=round(len(samples) / seconds, 1) if seconds > 0 else 0.0,
        failures=sum(1 for s in samples if not s.ok),
        server_errors=sum(1 for s in samples if s.status is not None and s.status >= 500),
        no_answer=sum(1 for s in samples if s.status is None),
        p50_ms=round(percentile(answered, 0.50), 1), p99_ms=round(percentile(answered, 0.99), 1),
        statuses=dict(sorted(statuses.items())))


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Intended:
    """What a create-learner request sent."""

    campus_id: int
    full_name: str
    phone: str


@dataclass(frozen=True)
class Answer:
    """What it got back: the status (None: no answer) and, on 201, the new learner's id."""

    status: int | None
    learner_id: int | None = None


@dataclass(frozen=True)
class Row:
    """A learner row as the database holds it (read as superuser)."""

    campus_id: int
    id: int
    email: str
    full_name: str | None
    phone: str | None
    consent_set: bool
    timestamps_set: bool


@dataclass(frozen=True)
class Reconciliation:
    acknowledged: int  # 201 answers
    rows: int  # rows the phase created
    lost: list[str]  # a 201 whose row is missing (or another row than the one answered)
    duplicates: list[str]  # e-mails with more than one row
    unknown_outcome: list[str]  # a row whose request got no answer or a 5xx (in doubt)
    unexplained: list[str]  # a row nobody asked for, or whose request was refused (4xx)
    incomplete: list[str]  # a row not exactly as sent (a column missing or different)


def reconcile(intended: dict[str, Intended], answers: dict[str, Answer],
              rows: Iterable[Row]) -> Reconciliation:
    """Compare the create requests of a phase with the rows it left in the database."""
    by_email: dict[str, list[Row]] = {}
    for row in rows:
        by_email.setdefault(row.email, []).append(row)
    acknowledged = {email: answer for email, answer in answers.items() if answer.status == 201}
    lost = sorted(email for email, answer in acknowledged.items()
                  if not any((row.campus_id, row.id) ==
                             (intended[email].campus_id, answer.learner_id)
                             for row in by_email.get(email, [])))
    duplicates = sorted(email for email, found in by_email.items() if len(found) > 1)
    unknown, unexplained, incomplete = [], [], []
    for email, found in sorted(by_email.items()):
        answer = answers.get(email)
        if email not in intended or answer is None:
            unexplained.append(email)
            continue
        if answer.status is None or answer.status >= 500:
            unknown.append(email)
        elif answer.status != 201:
            unexplained.append(email)
        sent = intended[email]
        if not all(row.campus_id == sent.campus_id and row.full_name == sent.full_name
                   and row.phone == sent.phone and row.consent_set and row.timestamps_set
                   for row in found):
            incomplete.append(email)
    return Reconciliation(len(acknowledged), sum(len(f) for f in by_email.values()), lost,
                          duplicates, unknown, unexplained, incomplete)


def _few(items: Sequence[str], count: int = 3) -> str:
    shown = ", ".join(items[:count])
    return shown + (f" … ({len(items)} in all)" if len(items) > count else "")


def write_checks(result: Reconciliation, unknown_allowed: bool) -> list[Check]:
    """The checks on a phase's writes; `unknown_allowed` when requests may fail mid-flight."""
    checks = [
        Check("every 201 is its row in the database (no lost write)", not result.lost,
              f"{result.acknowledged} acknowledged" + (
                  f", lost: {_few(result.lost)}" if result.lost else "")),
        Check("no duplicate row", not result.duplicates, _few(result.duplicates)),
        Check("no row without a request that could have made it", not result.unexplained,
              _few(result.unexplained)),
        Check("every row complete and as sent", not result.incomplete, _few(result.incomplete)),
    ]
    if unknown_allowed:
        checks.append(Check("rows of requests without an answer (unknown outcome) reported",
                            True, f"{len(result.unknown_outcome)} row(s) in doubt" + (
                                f": {_few(result.unknown_outcome)}"
                                if result.unknown_outcome else "")))
    else:
        checks.append(Check("rows created = 201s returned", not result.unknown_outcome
                            and result.rows == result.acknowledged,
                            f"{result.rows} rows, {result.acknowledged} acknowledged"))
    return checks


@dataclass(frozen=True)
class Probe:
    """One poll: when it started and ended (monotonic s) and its status (None: no answer)."""

    started: float
    ended: float
    status: int | None


@dataclass(frozen=True)
class Outage:
    during: dict[str, int]  # statuses of the polls made entirely while the database was down
    recovered_after: float | None  # s from the database's return to the first 200 (None: never)


def outage(probes: Iterable[Probe], down_at: float, up_at: float) -> Outage:
    """What a poller saw of an outage from `down_at` (the database refuses connections) to
    `up_at` (it accepts them again)."""
    probes = list(probes)
    during = Counter("none" if p.status is None else str(p.status) for p in probes
                     if p.started >= down_at and p.ended <= up_at)
    back = [p.ended for p in probes if p.status == 200 and p.started >= down_at]
    recovered = round(max(0.0, min(back) - up_at), 2) if back else None
    return Outage(dict(sorted(during.items())), recovered)


def webhook_plan(orders: Sequence[tuple[int, int, int]], deliveries: int, duplicate_share: float,
                 run: str, seed: int = 7) -> list[tuple[str, str, dict]]:
    """The deliveries of the webhook phase, shuffled: (event id, type, object).

    `orders` are (campus id, order id, amount) of open orders whose PaymentIntent is
    `pi_soak_<run>_<order id>`. Each order gets one `payment_intent.succeeded`; the distinct
    events are completed with a second `payment_intent.succeeded` of the same payment (another
    event id: must not pay twice) and with `charge.succeeded` (ignored), alternately; then
    `duplicate_share` of the deliveries repeat a distinct event (same id and body).

    Raises ValueError when the orders cannot fill the plan.
    """
    duplicates = round(deliveries * duplicate_share)
    distinct = deliveries - duplicates
    extra = distinct - len(orders)
    if extra < 0 or extra > 2 * len(orders) or duplicates > distinct:
        raise ValueError(f"{len(orders)} orders cannot make {distinct} distinct events")

    def intent(campus_id: int, order_id: int, amount: int) -> dict:
        return {"id": f"pi_soak_{run}_{order_id}", "object": "payment_intent",
                "status": "succeeded", "amount": amount, "currency": "eur",
                "metadata": {"campus_id": str(campus_id), "order_id": str(order_id),
                             "purpose": "cohort_fee"}}

    events = [(f"evt_soak_{run}_paid_{order_id}", "payment_intent.succeeded",
               intent(campus_id, order_id, amount)) for campus_id, order_id, amount in orders]
    for n in range(extra):
        campus_id, order_id, amount = orders[n // 2 if n % 2 == 0 else len(orders) - 1 - n // 2]
        if n % 2 == 0:
            events.append((f"evt_soak_{run}_again_{order_id}", "payment_intent.succeeded",
                           intent(campus_id, order_id, amount)))
        else:
            events.append((f"evt_soak_{run}_charge_{order_id}", "charge.succeeded",
                           {"id": f"ch_soak_{run}_{order_id}", "object": "charge",
                            "payment_intent": f"pi_soak_{run}_{order_id}", "amount": amount,
                            "currency": "eur", "metadata": {}}))
    rng = random.Random(seed)  # noqa: S311 (a reproducible shuffle, not a secret)
    plan = events + rng.sample(events, duplicates)
    rng.shuffle(plan)
    return plan


@dataclass
class PhaseResult:
    name: str
    figures: Figures
    checks: list[Check]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def phase_report(result: PhaseResult) -> str:
    """A phase's figures, notes and checks, as printed after it."""
    f = result.figures
    lines = [f"== {result.name}",
             f"   {f.requests} requests in {f.seconds} s ({f.rps} req/s), failures {f.failures}"
             f", 5xx {f.server_errors}, no answer {f.no_answer}, p50 {f.p50_ms} ms, "
             f"p99 {f.p99_ms} ms; statuses {json.dumps(f.statuses)}"]
    lines += [f"   {note}" for note in result.notes]
    lines += [f"   [{'pass' if c.passed else 'FAIL'}] {c.name}" + (f": {c.detail}" if c.detail
                                                                   else "")
              for c in result.checks]
    return "\n".join(lines)


def table(results: Sequence[PhaseResult]) -> str:
    """The summary: one line per phase, then the checks that failed (or that none did)."""
    lines = [f"{'phase':<28}{'requests':>9}{'req/s':>8}{'failed':>8}{'5xx':>6}{'p50 ms':>9}"
             f"{'p99 ms':>9}{'checks':>9}  result"]
    for r in results:
        f, passed = r.figures, sum(c.passed for c in r.checks)
        lines.append(f"{r.name:<28}{f.requests:>9}{f.rps:>8.1f}{f.failures:>8}"
                     f"{f.server_errors:>6}{f.p50_ms:>9.1f}{f.p99_ms:>9.1f}"
                     f"{f'{passed}/{len(r.checks)}':>9}  {'pass' if r.passed else 'FAIL'}")
    failed = [(r.name, c) for r in results for c in r.checks if not c.passed]
    lines.append("")
    lines += ([f"FAILED {name}: {c.name}" + (f" ({c.detail})" if c.detail else "")
               for name, c in failed] or ["all checks passed"])
    return "\n".join(lines)


# ---- load -------------------------------------------------------------------------------------


@dataclass
class Site:
    """A campus as the load sees it: its host, its manager's token and session cookie, and
    learners to read (the world's first ones, then those the load created)."""

    slug: str
    campus_id: int
    host: str
    token: str
    cookie: str
    known: list[tuple[int, str]]


def _request(session: requests.Session, method: str, url: str, **kwargs: Any
             ) -> requests.Response | None:
    try:
        return session.request(method, url, timeout=REQUEST_TIMEOUT, allow_redirects=False,
                               **kwargs)
    except requests.RequestException:
        return None


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Traffic:
    """The mixed load of a phase: threads that each loop over weighted operations until the
    phase ends, keeping every request's sample and every create request's outcome."""

    def __init__(self, base: str, sites: list[Site], tag: str, run: str, seed: int) -> None:
        self.base, self.sites, self.tag, self.run_id, self.seed = base, sites, tag, run, seed
        self.intended: dict[str, Intended] = {}
        self.answers: dict[str, Answer] = {}
        self.stop = threading.Event()
        self._samples: list[list[Sample]] = []

    def _create(self, session: requests.Session, site: Site, thread: int, n: int) -> Sample:
        email = f"soak-{self.tag}-{thread:02d}-{n:05d}@{self.run_id}.soak.test"
        sent = Intended(site.campus_id, f"Soak {self.tag} {thread} {n}",
                        f"+32 470 {thread:02d} {n:05d}")
        self.intended[email] = sent
        started = time.monotonic()
        response = _request(session, "POST", f"{self.base}/api/v1/learners",
                            headers={"Host": site.host, "Authorization": f"Bearer {site.token}"},
                            json={"full_name": sent.full_name, "email": email,
                                  "phone": sent.phone, "consent": True})
        elapsed = (time.monotonic() - started) * 1000
        if response is None:
            self.answers[email] = Answer(None)
            return Sample("create learner", started, elapsed, None, False)
        body = _json(response) if response.status_code == 201 else None
        learner_id = body.get("id") if isinstance(body, dict) else None
        ok = (response.status_code == 201 and isinstance(learner_id, int)
              and body.get("email") == email)
        self.answers[email] = Answer(response.status_code, learner_id)
        if ok:
            site.known.append((learner_id, email))
        return Sample("create learner", started, elapsed, response.status_code, ok)

    def _read(self, session: requests.Session, site: Site, kind: str,
              rng: random.Random) -> Sample:
        headers = {"Host": site.host}
        if kind.startswith("GET /api"):
            headers["Authorization"] = f"Bearer {site.token}"
        else:
            headers["Cookie"] = site.cookie
        learner_id, email = rng.choice(site.known)
        path, check = {
            "GET /api/v1/learners": (
                f"/api/v1/learners?page={rng.randint(1, 10)}&per_page=20",
                lambda r: isinstance(_json(r), dict) and bool(_json(r).get("items"))),
            "GET /api/v1/learners/<id>": (
                f"/api/v1/learners/{learner_id}",
                lambda r: isinstance(_json(r), dict) and _json(r).get("email") == email),
            "learners page": (f"/learners?page={rng.randint(1, 10)}", lambda r: "<table" in r.text),
            "learner record page": (f"/learners/{learner_id}/record", lambda r: email in r.text),
            "campus dashboard": ("/", lambda r: "<main" in r.text),
        }[kind]
        started = time.monotonic()
        response = _request(session, "GET", self.base + path, headers=headers)
        elapsed = (time.monotonic() - started) * 1000
        if response is None:
            return Sample(kind, started, elapsed, None, False)
        return Sample(kind, started, elapsed, response.status_code,
                      response.status_code == 200 and check(response))

    def _loop(self, thread: int, deadline: float, out: list[Sample]) -> None:
        rng = random.Random(self.seed * 1000 + thread)  # noqa: S311 (a reproducible mix)
        kinds, weights = list(MIX), list(MIX.values())
        counter = itertools.count()
        with requests.Session() as session:
            while not self.stop.is_set() and time.monotonic() < deadline:
                site = rng.choice(self.sites)
                kind = rng.choices(kinds, weights)[0]
                sample = (self._create(session, site, thread, next(counter))
                          if kind == "create learner" else self._read(session, site, kind, rng))
                out.append(sample)
                if sample.status is None or sample.status >= 500:
                    time.sleep(0.05)  # a client backs off a little after a failure

    def run(self, seconds: float, during: Callable[[float], None] | None = None
            ) -> tuple[list[Sample], float]:
        """Load for at most `seconds` on CONNECTIONS threads; `during(started)` runs meanwhile
        in this thread and may end the load early (`self.stop`). Returns the samples and the
        phase's duration."""
        started = time.monotonic()
        deadline = started + seconds
        threads = []
        for thread in range(CONNECTIONS):
            out: list[Sample] = []
            self._samples.append(out)
            worker = threading.Thread(target=self._loop, args=(thread, deadline, out),
                                      daemon=True, name=f"soak-{self.tag}-{thread}")
            worker.start()
            threads.append(worker)
        try:
            if during is not None:
                during(started)
            while time.monotonic() < deadline and not self.stop.is_set():
                time.sleep(0.1)
        finally:
            self.stop.set()
            for worker in threads:
                worker.join(max(0.1, deadline + REQUEST_TIMEOUT + 5 - time.monotonic()))
        if any(worker.is_alive() for worker in threads):
            raise BenchError(f"phase {self.tag}: load threads did not finish")
        return [s for out in self._samples for s in out], time.monotonic() - started


class Poller:
    """GET one URL every PROBE_INTERVAL in its own thread, keeping every answer's status."""

    def __init__(self, url: str, headers: dict[str, str],
                 ok: Callable[[requests.Response], bool] = lambda r: True) -> None:
        self.url, self.headers, self.ok = url, headers, ok
        self.probes: list[Probe] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="soak-poller")

    def _loop(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = session.get(self.url, headers=self.headers, timeout=2,
                                           allow_redirects=False)
                    status = response.status_code
                    if status == 200 and not self.ok(response):
                        status = -200  # a 200 without the expected body
                except requests.RequestException:
                    status = None
                self.probes.append(Probe(started, time.monotonic(), status))
                self._stop.wait(max(0.0, PROBE_INTERVAL - (time.monotonic() - started)))

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


# ---- the database as superuser ----------------------------------------------------------------


def _sql(server: ThrowawayPostgres, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
    with psycopg.connect(_superuser(server), autocommit=True, connect_timeout=10) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _learner_rows(server: ThrowawayPostgres, tag: str, run: str, since: datetime,
                  until: datetime) -> list[Row]:
    """Learners of a phase: by their e-mail, and any other row created meanwhile."""
    rows = _sql(server, "SELECT campus_id, id, email, full_name, phone, "
                "consent_given_at IS NOT NULL, created_at IS NOT NULL AND updated_at IS NOT NULL "
                "FROM learners WHERE email LIKE %s OR created_at BETWEEN %s AND %s",
                (f"soak-{tag}-%@{run}.soak.test", since, until))
    return [Row(*row) for row in rows]


def _phase_writes(server: ThrowawayPostgres, traffic: Traffic, since: datetime,
                  unknown_allowed: bool) -> tuple[Reconciliation, list[Check]]:
    rows = _learner_rows(server, traffic.tag, traffic.run_id, since, datetime.now(UTC))
    result = reconcile(traffic.intended, traffic.answers, rows)
    return result, write_checks(result, unknown_allowed)


# ---- PostgreSQL stopped and started again -----------------------------------------------------


def _accepts(server: ThrowawayPostgres) -> bool:
    try:
        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                             dbname="postgres", connect_timeout=1):
            return True
    except psycopg.OperationalError:
        return False


def stop_postgres(server: ThrowawayPostgres) -> None:
    """`pg_ctl stop -m fast`: open sessions are ended at once, the server is gone on return."""
    subprocess.run([str(WRAPPER), "stop", "-D", server.executor.datadir, "-m", "fast", "-w"],  # noqa: S603
                   check=True, timeout=60, capture_output=True)


def start_postgres_again(server: ThrowawayPostgres) -> float:
    """Start the stopped server with the options it first started with; returns the monotonic
    time at which it first accepted a connection."""
    process = subprocess.Popen(server.executor.command_parts,  # noqa: S603 (our own pg_ctl)
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    try:
        while not _accepts(server):
            if time.monotonic() > deadline:
                raise BenchError("PostgreSQL did not come back within 60 s")
            time.sleep(0.05)
        return time.monotonic()
    finally:
        process.wait(60)


# ---- the phases -------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def steady(server: ThrowawayPostgres, base: str, sites: list[Site], run: str) -> PhaseResult:
    since = _now()
    traffic = Traffic(base, sites, "p1", run, seed=1)
    samples, seconds = traffic.run(STEADY_SECONDS)
    figures = summarize(samples, seconds)
    result, checks = _phase_writes(server, traffic, since, unknown_allowed=False)
    checks = [Check("no 5xx", figures.server_errors == 0, str(figures.server_errors)),
              Check("every answer as expected (status and body)", figures.failures == 0,
                    _failures(samples)),
              *checks]
    return PhaseResult(f"1 steady load {STEADY_SECONDS} s", figures, checks,
                       [f"writes: {result.acknowledged} learners created, {result.rows} rows"])


def _failures(samples: Sequence[Sample]) -> str:
    failed = Counter(f"{s.kind} → {s.status or 'no answer'}" for s in samples if not s.ok)
    return ", ".join(f"{k}: {n}" for k, n in failed.most_common(5)) or "none"


def _socket_owner(pids: Iterable[int], local_port: int, remote_port: int) -> int | None:
    """Which of `pids` holds the loopback TCP connection from `local_port` to `remote_port`."""
    sockets = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":"), fields[2].split(":")
        if int(local[1], 16) == local_port and int(remote[1], 16) == remote_port:
            sockets.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            if any(os.readlink(fd) in sockets for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
        except OSError:
            continue
    return None


def writing_worker(server: ThrowawayPostgres, pids: list[int], timeout: float = 3.0
                   ) -> int | None:
    """A worker whose transaction has written (it has a transaction id) and not yet committed,
    found through `pg_stat_activity` and the worker's socket to PostgreSQL; None if no worker
    is caught in that state within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(_superuser(server), autocommit=True) as connection:
        while time.monotonic() < deadline:
            ports = connection.execute(
                "SELECT client_port FROM pg_stat_activity WHERE usename = %s "
                "AND backend_xid IS NOT NULL AND client_port IS NOT NULL", (APP,)).fetchall()
            for (port,) in ports:
                if owner := _socket_owner(pids, port, server.port):
                    return owner
            time.sleep(0.002)
    return None


def killed_worker(server: ThrowawayPostgres, base: str, sites: list[Site], run: str,
                  master: int) -> PhaseResult:
    since = _now()
    traffic = Traffic(base, sites, "p2", run, seed=2)
    before = worker_pids(master)
    killed: dict[str, Any] = {}

    def kill(started: float) -> None:
        time.sleep(max(0.0, started + KILL_AT - time.monotonic()))
        writer = writing_worker(server, worker_pids(master))
        victim = writer or worker_pids(master)[0]
        os.kill(victim, signal.SIGKILL)
        killed.update(pid=victim, at=time.monotonic(), mid_write=writer is not None)
        _log(f"worker {victim} killed (SIGKILL)"
             + (", caught in the middle of a write" if writer else ""))
        while time.monotonic() < killed["at"] + 30:
            pids = worker_pids(master)
            if len(pids) == WORKERS and victim not in pids:
                killed["respawned_after"] = round(time.monotonic() - killed["at"], 2)
                return
            time.sleep(0.1)

    samples, seconds = traffic.run(KILL_SECONDS, during=kill)
    figures = summarize(samples, seconds)
    result, checks = _phase_writes(server, traffic, since, unknown_allowed=True)
    percent = 100 * figures.failures / max(1, figures.requests)
    respawned = killed.get("respawned_after")
    checks = [Check(f"under {FAILED_MAX_PERCENT} % of requests failed",
                    percent < FAILED_MAX_PERCENT,
                    f"{figures.failures} of {figures.requests} ({percent:.3f} %): "
                    f"{_failures(samples)}"),
              Check("no 5xx", figures.server_errors == 0, str(figures.server_errors)),
              *checks,
              Check("gunicorn started a new worker in its place", respawned is not None,
                    f"{WORKERS} workers again {respawned} s after the kill" if respawned
                    else f"workers now {worker_pids(master)}, before {before}")]
    notes = [f"killed worker {killed.get('pid')} at {KILL_AT} s"
             + (", picked because its transaction had written and not yet committed"
                if killed.get("mid_write") else " (none caught mid-write: the first worker)")
             + f"; writes: {result.acknowledged} "
             f"acknowledged, {result.rows} rows, unknown outcome "
             f"{len(result.unknown_outcome)}" + (f" ({_few(result.unknown_outcome)}, complete: "
                                                 f"{not result.incomplete})"
                                                 if result.unknown_outcome else "")]
    return PhaseResult("2 worker SIGKILL", figures, checks, notes)


def restarted_database(server: ThrowawayPostgres, base: str, sites: list[Site], run: str,
                       master: int) -> PhaseResult:
    since = _now()
    traffic = Traffic(base, sites, "p3", run, seed=3)
    site = sites[0]
    learner_id, email = site.known[0]
    workers = sorted(worker_pids(master))
    times: dict[str, float] = {}
    readyz = Poller(f"{base}/readyz", {"Host": site.host})
    api = Poller(f"{base}/api/v1/learners/{learner_id}",
                 {"Host": site.host, "Authorization": f"Bearer {site.token}"},
                 lambda r: isinstance(_json(r), dict) and _json(r).get("email") == email)

    def restart(started: float) -> None:
        times["phase"] = started
        time.sleep(max(0.0, started + RESTART_AT - time.monotonic()))
        _log("stopping PostgreSQL (pg_ctl stop -m fast)")
        times["stop_asked"] = time.monotonic()
        stop_postgres(server)
        times["down"] = time.monotonic()
        time.sleep(DOWN_SECONDS)
        _log("starting PostgreSQL again")
        times["up"] = start_postgres_again(server)
        deadline = times["up"] + 15
        while time.monotonic() < deadline:
            both = [outage(p.probes, times["down"], times["up"]).recovered_after
                    for p in (readyz, api)]
            if None not in both:
                break
            time.sleep(0.1)
        times["recovered"] = time.monotonic()
        time.sleep(AFTER_RECOVERY_SECONDS)
        traffic.stop.set()

    with readyz, api:
        samples, seconds = traffic.run(RESTART_LIMIT, during=restart)
    if "up" not in times:
        raise BenchError("PostgreSQL was not restarted within the phase")
    figures = summarize(samples, seconds)
    seen_readyz = outage(readyz.probes, times["down"], times["up"])
    seen_api = outage(api.probes, times["down"], times["up"])
    recovered = [seen_readyz.recovered_after, seen_api.recovered_after]
    back_at = times["up"] + max(r or 0.0 for r in recovered)
    after = [s for s in samples if s.started >= back_at]
    after_5xx = sum(1 for s in after if s.status is not None and s.status >= 500)
    outage_5xx = Counter(str(s.status) for s in samples
                         if s.status is not None and s.status >= 500 and s.started < back_at)
    result, write_checks_ = _phase_writes(server, traffic, since, unknown_allowed=True)
    checks = [
        Check("/readyz 503 all the while PostgreSQL was down",
              bool(seen_readyz.during) and set(seen_readyz.during) == {"503"},
              f"polls while down: {seen_readyz.during}"),
        Check(f"/readyz 200 within {RECOVERY_MAX_SECONDS:g} s of PostgreSQL's return",
              seen_readyz.recovered_after is not None
              and seen_readyz.recovered_after <= RECOVERY_MAX_SECONDS,
              f"{seen_readyz.recovered_after} s"),
        Check(f"API read 200 within {RECOVERY_MAX_SECONDS:g} s of PostgreSQL's return",
              seen_api.recovered_after is not None
              and seen_api.recovered_after <= RECOVERY_MAX_SECONDS,
              f"{seen_api.recovered_after} s"),
        Check("no 5xx once recovered", after_5xx == 0,
              f"{after_5xx} of {len(after)} requests started after recovery"),
        Check("same gunicorn workers (no restart)", sorted(worker_pids(master)) == workers,
              f"before {workers}, after {sorted(worker_pids(master))}"),
        *write_checks_,
    ]
    down = times["up"] - times["down"]
    notes = [f"PostgreSQL stopped at {times['stop_asked'] - times['phase']:.1f} s "
             f"(stop took {times['down'] - times['stop_asked']:.2f} s), down {down:.1f} s; "
             f"/readyz polls while down {seen_readyz.during}, back after "
             f"{seen_readyz.recovered_after} s; API read polls while down {seen_api.during}, "
             f"back after {seen_api.recovered_after} s",
             f"5xx of the load before recovery (expected while the database is away): "
             f"{dict(outage_5xx) or 'none'}; writes: {result.acknowledged} acknowledged, "
             f"{result.rows} rows, unknown outcome {len(result.unknown_outcome)}"]
    return PhaseResult("3 PostgreSQL restart", figures, checks, notes)


def _create_orders(base: str, server: ThrowawayPostgres, sites: dict[int, Site], run: str
                   ) -> list[tuple[int, int, int]]:
    """ORDERS open card orders for enrolments in paid cohorts of the EUR campuses, made through
    the API; then each gets the PaymentIntent id Stripe would have given it (the gateway is not
    configured here: only webhooks are)."""
    enrolments = _sql(server, """
        SELECT e.campus_id, e.id FROM enrolments e
        JOIN cohorts c ON c.campus_id = e.campus_id AND c.id = e.cohort_id
        JOIN campuses k ON k.id = e.campus_id
        JOIN billing_entities b ON b.campus_id = e.campus_id
        WHERE c.funding = 'paid' AND c.price_minor > 0 AND c.status <> 'cancelled'
          AND e.status <> 'dropped' AND k.currency = 'EUR' AND b.payment_provider = 'stripe'
          AND e.campus_id = ANY(%s)
        ORDER BY e.id LIMIT %s""", (list(sites), ORDERS))
    if len(enrolments) < ORDERS:
        raise BenchError(f"only {len(enrolments)} payable enrolments for {ORDERS} orders")
    made: list[tuple[int, int, int]] = []
    failures: list[str] = []
    lock, queue = threading.Lock(), list(enrolments)

    def make() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if not queue:
                        return
                    campus_id, enrolment_id = queue.pop()
                site = sites[campus_id]
                response = _request(session, "POST", f"{base}/api/v1/orders",
                                    headers={"Host": site.host,
                                             "Authorization": f"Bearer {site.token}"},
                                    json={"enrolment_id": enrolment_id})
                body = _json(response) if response is not None else None
                with lock:
                    if response is not None and response.status_code == 201:
                        made.append((campus_id, body["id"], body["amount_minor"]))
                    else:
                        failures.append(f"{enrolment_id}: {getattr(response, 'status_code', None)}")

    threads = [threading.Thread(target=make, daemon=True) for _ in range(8)]
    deadline = time.monotonic() + WEBHOOK_LIMIT
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise BenchError(f"orders still being created after {WEBHOOK_LIMIT} s")
    if failures or len(made) != ORDERS:
        raise BenchError(f"orders not created: {_few(failures)}")
    _sql(server, "UPDATE orders SET payment_intent_id = %s || id WHERE id = ANY(%s)",
         (f"pi_soak_{run}_", [order_id for _c, order_id, _a in made]))
    return sorted(made, key=lambda order: order[1])


def webhooks(server: ThrowawayPostgres, base: str, sites: list[Site], run: str,
             app: Any) -> PhaseResult:
    eur = {site.campus_id: site for site in sites
           if _sql(server, "SELECT currency FROM campuses WHERE id = %s",
                   (site.campus_id,))[0][0] == "EUR"}
    _log(f"webhooks: {ORDERS} open orders through the API")
    orders = _create_orders(base, server, eur, run)
    plan = webhook_plan(orders, WEBHOOK_DELIVERIES, DUPLICATE_SHARE, run)
    order_of = {event_id: int(obj["metadata"]["order_id"]) for event_id, kind, obj in plan
                if kind == "payment_intent.succeeded"}
    _log(f"webhooks: {len(plan)} deliveries on {CONNECTIONS} connections")
    samples: list[Sample] = []
    outcomes: list[tuple[str, str | None]] = []
    lock, queue = threading.Lock(), list(plan)

    def deliver() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if not queue:
                        return
                    event_id, kind, obj = queue.pop()
                body = event_payload(kind, obj, event_id)
                started = time.monotonic()
                response = _request(session, "POST", f"{base}/webhooks/stripe", data=body,
                                    headers={"Host": DOMAIN, "Content-Type": "application/json",
                                             "Stripe-Signature": sign_payload(body,
                                                                              WEBHOOK_SECRET)})
                elapsed = (time.monotonic() - started) * 1000
                answer = _json(response) if response is not None else None
                outcome = answer.get("outcome") if isinstance(answer, dict) else None
                status = response.status_code if response is not None else None
                with lock:
                    samples.append(Sample("webhook", started, elapsed, status,
                                          status == 200 and outcome is not None))
                    outcomes.append((event_id, outcome))

    started = time.monotonic()
    threads = [threading.Thread(target=deliver, daemon=True) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.1, started + WEBHOOK_LIMIT - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise BenchError(f"webhook deliveries still running after {WEBHOOK_LIMIT} s")
    figures = summarize(samples, time.monotonic() - started)

    distinct = {event_id for event_id, _k, _o in plan}
    duplicates = len(plan) - len(distinct)
    answered = Counter(outcome for _e, outcome in outcomes)
    first_answers = Counter(event_id for event_id, outcome in outcomes if outcome != "duplicate")
    stored = dict(_sql(server, "SELECT id, outcome FROM stripe_events WHERE id LIKE %s",
                       (f"evt_soak_{run}_%",)))
    paid_events = Counter(order_of[event_id] for event_id, outcome in stored.items()
                          if outcome == "paid")
    rows = _sql(server, """
        SELECT o.id, o.status, o.paid_at IS NOT NULL, o.entry_id IS NOT NULL, o.amount_minor,
               count(r.id), coalesce(sum(r.amount_minor), 0)
        FROM orders o LEFT JOIN revenue_entries r
          ON r.campus_id = o.campus_id AND r.source_key = 'order:' || o.id
        WHERE o.payment_intent_id LIKE %s GROUP BY o.campus_id, o.id""", (f"pi_soak_{run}_%",))
    not_paid = [str(r[0]) for r in rows if r[1] != "paid" or not r[2] or not r[3]]
    wrong_ledger = [str(r[0]) for r in rows if r[5] != 1 or r[6] != r[4]]
    with app.app_context(), all_campuses(db.session):
        differences = verify_rollups()
        db.session.rollback()
    checks = [
        Check("every delivery answered 200", figures.failures == 0, _failures(samples)),
        Check("each duplicate answered as a duplicate",
              answered["duplicate"] == duplicates and set(first_answers.values()) == {1}
              and set(first_answers) == distinct,
              f"{answered['duplicate']} duplicates answered, {duplicates} sent"),
        Check("stripe_events = the distinct event ids", set(stored) == distinct,
              f"{len(stored)} rows, {len(distinct)} distinct ids"),
        Check(f"all {len(orders)} orders paid", len(rows) == len(orders) and not not_paid,
              _few(not_paid)),
        Check("exactly one ledger entry per order, of its amount", not wrong_ledger,
              _few(wrong_ledger)),
        Check("each order paid by exactly one event",
              len(paid_events) == len(orders) and set(paid_events.values()) == {1},
              f"{sum(paid_events.values())} 'paid' events for {len(paid_events)} orders"),
        Check("rollups equal the ledger (verify_rollups)", not differences,
              f"{len(differences)} difference(s)"),
    ]
    notes = [f"{len(orders)} orders, {len(distinct)} distinct events, {duplicates} duplicate "
             f"deliveries; outcomes answered {dict(sorted(answered.items(), key=str))}"]
    return PhaseResult("4 webhooks 20 % duplicates", figures, checks, notes)


# ---- the run ----------------------------------------------------------------------------------


def _sites(server: ThrowawayPostgres, base: str, world: Any) -> list[Site]:
    ids = dict(_sql(server, "SELECT slug, id FROM campuses WHERE slug = ANY(%s)",
                    (world.campus_slugs,)))
    sites = []
    for slug in world.campus_slugs:
        host = f"{slug}.{DOMAIN}"
        known = _sql(server, "SELECT id, email FROM learners WHERE campus_id = %s ORDER BY id "
                     "LIMIT %s", (ids[slug], READ_LEARNERS_PER_CAMPUS))
        sites.append(Site(slug, ids[slug], host,
                          bearer_token(base, host, world.manager_email[slug], world.password),
                          sign_in(base, host, world.manager_email[slug], world.password),
                          [tuple(row) for row in known]))
    return sites


class _Overrun(Exception):
    pass


def _overrun(_signum: int, _frame: object) -> None:
    raise _Overrun(f"the soak ran longer than {OVERALL_LIMIT} s")


def run() -> list[PhaseResult]:
    bindir = postgres_bindir()
    if bindir is None:
        raise BenchError("PostgreSQL binaries (pg_ctl) are not installed")
    logs = Path(os.environ.get("BENCH_LOGS", "/tmp/campusflow-bench"))  # noqa: S108
    logs.mkdir(parents=True, exist_ok=True)
    run_id = f"{int(time.time()) % 100000:05d}"
    results: list[PhaseResult] = []
    _log("starting a throwaway PostgreSQL")
    server = start_postgres(bindir)
    try:
        os.environ.update(_app_env(server))
        app = _in_process_app(server)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        _log(f"generating {SCALE.campuses} campuses, {SCALE.learners:,} learners, "
             f"{SCALE.entries:,} entries")
        with psycopg.connect(_superuser(server), autocommit=True) as connection:
            world = generate_world(connection, SCALE)
            add_entries(connection, world, SCALE.entries)
        env = _app_env(server, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
        (logs / "soak.log").unlink(missing_ok=True)
        with ExitStack() as stack:
            port, master = stack.enter_context(gunicorn(env, logs / "soak.log", WORKERS))
            base = f"http://127.0.0.1:{port}"
            _log(f"gunicorn {WORKERS} workers on {base} (log {logs / 'soak.log'})")
            sites = _sites(server, base, world)
            phases: list[Callable[[], PhaseResult]] = [
                lambda: steady(server, base, sites, run_id),
                lambda: killed_worker(server, base, sites, run_id, master),
                lambda: restarted_database(server, base, sites, run_id, master),
                lambda: webhooks(server, base, sites, run_id, app),
            ]
            for phase in phases:
                result = phase()
                print(phase_report(result), flush=True)
                results.append(result)
        with app.app_context():
            db.engine.dispose()
    finally:
        server.stop()
    return results


def main() -> int:
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _overrun)
    signal.alarm(OVERALL_LIMIT)
    try:
        results = run()
    except (BenchError, _Overrun) as error:
        print(f"soak failed: {error}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    print(f"\nCampusflow soak, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs, gunicorn "
          f"{WORKERS} sync workers, {CONNECTIONS} connections, "
          f"{time.monotonic() - started:.0f} s in all")
    print(table(results))
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
