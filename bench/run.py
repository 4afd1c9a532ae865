"""`make bench`: bench-scale data on a throwaway PostgreSQL, the app under gunicorn loaded by wrk,
two nodes behind nginx, one table of figures against DESIGN.md's targets, `bench/results.json`.

    python -m bench.run [--quick]          (BENCH_ROWS=10000000 adds the 10 M-entry stage)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import requests
from flask_migrate import upgrade
from sqlalchemy import select

from bench import measure
from bench.data import BenchWorld, Scale, add_entries, generate_world
from bench.load import BenchError, LoadResult, Target, bearer_token, check, sign_in, wrk
from bench.servers import gunicorn, nginx, peak_rss_mb, redis_server, worker_pids
from core.app import create_app
from core.extensions import db
from tests.support.postgres import ThrowawayPostgres, postgres_bindir, start_postgres

RESULTS = Path(__file__).with_name("results.json")
DOMAIN = "bench.test"
SECRET = "bench-only-secret-key"  # noqa: S105 (a throwaway server on loopback)
TARGETS = {  # DESIGN.md, "Targets"
    "dashboard_ratio_min": 0.50,
    "report_p50_ms_max": 20.0,
    "report_growth_max": 1.5,
    "scoping_overhead_percent_max": 10.0,
    "generation_seconds_per_million_max": 60.0,
    "worker_rss_mb_max": 150.0,
}


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _app_env(server: ThrowawayPostgres, **extra: str) -> dict[str, str]:
    """A node as production runs it (app role, RLS forced), on http over loopback."""
    return {"CAMPUSFLOW_ENV": "production", "SECRET_KEY": SECRET,
            "DATABASE_URL": server.app_url, "CAMPUSFLOW_DOMAIN": DOMAIN,
            "SESSION_COOKIE_SECURE": "false", "LOG_LEVEL": "WARNING", **extra}


def _superuser(server: ThrowawayPostgres) -> str:
    """libpq's form of the superuser URL (data generation bypasses row-level security)."""
    return server.url("postgres").replace("postgresql+psycopg://", "postgresql://")


def _in_process_app(server: ThrowawayPostgres) -> Any:
    return create_app({"SQLALCHEMY_DATABASE_URI": server.app_url,
                       "MIGRATION_DATABASE_URI": server.owner_url,
                       "CAMPUSFLOW_DOMAIN": DOMAIN, "SECRET_KEY": SECRET,
                       "CAMPUSFLOW_ENV": "production", "RATELIMIT_ENABLED": False})


def _host(slug: str) -> str:
    return f"{slug}.{DOMAIN}"


def _targets(base: str, world: BenchWorld) -> list[Target]:
    campus = world.campus_slugs[0]
    manager = world.manager_email[campus]
    cookie = sign_in(base, _host(campus), manager, world.password)
    hq_cookie = sign_in(base, _host("hq"), world.hq_email, world.password)
    token = bearer_token(base, _host(campus), manager, world.password)
    first, last = _month(world.first_month), _month(world.last_month)
    return [
        Target("/healthz", "/healthz", _host(campus), {}, '"ok"'),
        Target("campus dashboard", "/", _host(campus), {"Cookie": cookie}, "<main"),
        Target("learners page", "/learners", _host(campus), {"Cookie": cookie}, "<table"),
        Target("GET /api/v1/learners", "/api/v1/learners", _host(campus),
               {"Authorization": f"Bearer {token}"}, '"items"'),
        Target("HQ consolidated page", f"/reports/revenue?from={first}&to={last}", _host("hq"),
               {"Cookie": hq_cookie}, "<table"),
        Target("GET /api/v1/reports/revenue", measure.report_path(first, last), _host("hq"),
               {"Cookie": hq_cookie}, '"rows"'),
    ]


def _load(base: str, targets: list[Target], seconds: int) -> dict[str, LoadResult]:
    results = {}
    for target in targets:
        check(base, target)
        _log(f"wrk {seconds} s: {target.name}")
        results[target.name] = wrk(base, target, seconds)
    return results


def _report_timing(app: Any, world: BenchWorld) -> dict[str, float]:
    """The report's server-side time computed afresh (p50_ms) and kept (kept_p50_ms: what HQ
    gets between two ledger changes, billing/reports/cache.py)."""
    client = app.test_client()
    hq = f"http://{_host('hq')}"
    answer = client.post("/api/v1/auth/token", base_url=hq,
                         json={"email": world.hq_email, "password": world.password})
    if answer.status_code != 200:
        raise BenchError(f"no HQ token in process ({answer.status_code})")
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    path = measure.report_path(_month(world.first_month), _month(world.last_month))
    kept_rows = app.config["REPORT_CACHE_ROWS"]
    app.config["REPORT_CACHE_ROWS"] = 0  # computed afresh on every request
    try:
        cold = measure.server_side_ms(app, _host("hq"), headers, path)
    finally:
        app.config["REPORT_CACHE_ROWS"] = kept_rows
    kept = measure.server_side_ms(app, _host("hq"), headers, path)
    return {"p50_ms": cold["p50_ms"], "p99_ms": cold["p99_ms"],
            "kept_p50_ms": kept["p50_ms"], "kept_p99_ms": kept["p99_ms"]}


def _grow(server: ThrowawayPostgres, world: BenchWorld, upto: int) -> float:
    """Grow the ledger to `upto` entries; the seconds it took (then ANALYZE, as autovacuum
    would soon do)."""
    started = time.perf_counter()
    with psycopg.connect(_superuser(server), autocommit=True) as connection:
        add_entries(connection, world, upto)
        elapsed = time.perf_counter() - started
        connection.execute("VACUUM ANALYZE")
    return elapsed


def _throttle_shared(base: str, host: str, attempts: int) -> bool:
    """Failed sign-ins through nginx (round robin over both nodes) are counted together: the
    attempt after the limit is refused with 429 whichever node answers it."""
    email = f"nobody-{time.time_ns()}@bench.test"
    statuses = [requests.post(f"{base}/api/v1/auth/token", headers={"Host": host}, timeout=30,
                              json={"email": email, "password": "wrong"}).status_code
                for _ in range(attempts + 1)]
    return statuses[:attempts] == [401] * attempts and statuses[attempts] == 429


def _session_shared(base: str, target: Target, requests_count: int = 10) -> bool:
    """A session cookie from one sign-in is accepted by both nodes (nginx alternates)."""
    try:
        for _ in range(requests_count):
            check(base, target)
    except BenchError:
        return False
    return True


def _two_nodes(server: ThrowawayPostgres, world: BenchWorld, seconds: int, logs: Path,
               signin_limit: int) -> dict[str, Any]:
    with ExitStack() as stack:
        uri = stack.enter_context(redis_server())
        env = _app_env(server, RATELIMIT_STORAGE_URI=uri, TRUSTED_PROXIES="1",
                       SIGNIN_RATE_LIMIT=f"{signin_limit} per minute")
        ports = [stack.enter_context(gunicorn(env, logs / f"node-{n}.log"))[0]
                 for n in (1, 2)]
        one = stack.enter_context(nginx(ports[:1]))
        pair = stack.enter_context(nginx(ports))
        pair_base = f"http://127.0.0.1:{pair}"
        targets = _targets(pair_base, world)
        healthz, dashboard = targets[0], targets[1]
        shared_session = _session_shared(pair_base, dashboard)
        shared_throttle = _throttle_shared(pair_base, dashboard.host, signin_limit)
        _log("two nodes: one node behind nginx, then the pair")
        one_node = _load(f"http://127.0.0.1:{one}", [healthz, dashboard], seconds)
        both = _load(pair_base, [healthz, dashboard], seconds)
    return {
        "one_node": {name: asdict(result) for name, result in one_node.items()},
        "two_nodes": {name: asdict(result) for name, result in both.items()},
        "dashboard_pair_over_one": round(both["campus dashboard"].requests_per_second
                                         / one_node["campus dashboard"].requests_per_second, 2),
        "sessions_shared": shared_session,
        "throttle_shared": shared_throttle,
    }


def run(quick: bool, largest: int | None) -> dict[str, Any]:
    scale = Scale().divided(20) if quick else Scale()
    seconds = 3 if quick else 10
    stages = [scale.entries // 10, scale.entries]
    if largest and largest > scale.entries:
        stages.append(largest)
    bindir = postgres_bindir()
    if bindir is None:
        raise BenchError("PostgreSQL binaries (pg_ctl) are not installed")
    logs = Path(os.environ.get("BENCH_LOGS", "/tmp/campusflow-bench"))  # noqa: S108
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": date.today().isoformat(), "cpus": os.cpu_count(),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "quick": quick, "scale": asdict(scale), "targets": TARGETS,
    }
    _log("starting a throwaway PostgreSQL")
    server = start_postgres(bindir)
    try:
        os.environ.update(_app_env(server))  # the in-process app reads them as the nodes do
        app = _in_process_app(server)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        _log(f"generating {scale.campuses} campuses, {scale.learners:,} learners…")
        started = time.perf_counter()
        with psycopg.connect(_superuser(server), autocommit=True) as connection:
            world = generate_world(connection, scale)
        results["generation"] = {"world_seconds": round(time.perf_counter() - started, 1)}
        report_ms, entry_seconds = {}, 0.0
        for upto in stages[:2]:
            _log(f"ledger up to {upto:,} entries")
            entry_seconds += _grow(server, world, upto)
            report_ms[str(upto)] = _report_timing(app, world)
        results["generation"]["entries"] = scale.entries
        results["generation"]["entries_seconds"] = round(entry_seconds, 1)

        _log("scoping overhead (learners list, scoped vs unscoped)")
        with app.app_context():
            campus_id = db.session.scalar(select(db.text("id")).select_from(
                db.text("campuses")).where(db.text("slug = :slug")).params(
                slug=world.campus_slugs[0]))
        results["scoping"] = measure.scoping_overhead(app, server.url("postgres"), campus_id,
                                                      seconds=1.5 if quick else 4.0)

        with gunicorn(_app_env(server), logs / "single.log") as (port, master):
            base = f"http://127.0.0.1:{port}"
            loads = _load(base, _targets(base, world), seconds)
            rss = [round(peak_rss_mb(pid), 1) for pid in worker_pids(master)]
        health = loads["/healthz"].requests_per_second
        results["endpoints"] = {
            name: {**asdict(result),
                   "ratio_to_healthz": round(result.requests_per_second / health, 3)}
            for name, result in loads.items()}
        results["worker_peak_rss_mb"] = rss

        results["nodes"] = _two_nodes(server, world, seconds, logs, signin_limit=5)

        for upto in stages[2:]:
            _log(f"ledger up to {upto:,} entries")
            results["generation"][f"seconds_to_{upto}"] = round(_grow(server, world, upto), 1)
            report_ms[str(upto)] = _report_timing(app, world)
        results["report_server_side"] = report_ms
        with app.app_context():
            db.engine.dispose()
    finally:
        server.stop()
    results["verdicts"] = verdicts(results)
    return results


def verdicts(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of DESIGN.md with the measured figure and whether it is met."""
    endpoints, reports = results["endpoints"], results["report_server_side"]
    sizes = sorted(reports, key=int)
    at_bench = reports[str(results["scale"]["entries"])]["kept_p50_ms"]
    fresh = reports[str(results["scale"]["entries"])]["p50_ms"]
    growth = reports[sizes[-1]]["p50_ms"] / reports[sizes[0]]["p50_ms"]
    generation = results["generation"]
    per_million = generation["entries_seconds"] * 1_000_000 / generation["entries"]
    checks = {
        "campus dashboard ≥ 50 % of /healthz": (
            endpoints["campus dashboard"]["ratio_to_healthz"], TARGETS["dashboard_ratio_min"],
            endpoints["campus dashboard"]["ratio_to_healthz"] >= TARGETS["dashboard_ratio_min"]),
        "HQ report p50 ≤ 20 ms (kept until the ledger changes)": (
            at_bench, TARGETS["report_p50_ms_max"], at_bench <= TARGETS["report_p50_ms_max"]),
        "HQ report p50 ≤ 20 ms (computed afresh)": (
            fresh, TARGETS["report_p50_ms_max"], fresh <= TARGETS["report_p50_ms_max"]),
        f"HQ report at {int(sizes[-1]):,} ≤ 1.5 x at {int(sizes[0]):,}": (
            round(growth, 2), TARGETS["report_growth_max"],
            growth <= TARGETS["report_growth_max"]),
        "scoping overhead ≤ 10 %": (
            results["scoping"]["overhead_percent"], TARGETS["scoping_overhead_percent_max"],
            results["scoping"]["overhead_percent"] <= TARGETS["scoping_overhead_percent_max"]),
        "1 M entries generated in ≤ 60 s": (
            round(per_million, 1), TARGETS["generation_seconds_per_million_max"],
            per_million <= TARGETS["generation_seconds_per_million_max"]),
        "≤ 150 MB RSS per worker": (
            max(results["worker_peak_rss_mb"]), TARGETS["worker_rss_mb_max"],
            max(results["worker_peak_rss_mb"]) <= TARGETS["worker_rss_mb_max"]),
    }
    return {name: {"measured": measured, "target": target, "met": met}
            for name, (measured, target, met) in checks.items()}


def table(results: dict[str, Any]) -> str:
    """The figures as one plain-text table, as `make bench` prints them."""
    scale = results["scale"]
    lines = [
        f"Campusflow bench, {results['date']}, {results['cpus']} CPUs, {results['machine']}"
        + (" (quick: 1/20 scale)" if results["quick"] else ""),
        f"{scale['campuses']} campuses, {scale['learners']:,} learners, "
        f"{scale['entries']:,} ledger entries; gunicorn 2 sync workers, app role + RLS, "
        "wrk 16 connections",
        "",
        f"{'endpoint':<30}{'req/s':>10}{'x healthz':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}",
    ]
    for name, figures in results["endpoints"].items():
        lines.append(f"{name:<30}{figures['requests_per_second']:>10.0f}"
                     f"{figures['ratio_to_healthz']:>11.2f}{figures['p50_ms']:>9.2f}"
                     f"{figures['p99_ms']:>9.2f}{figures['errors']:>8}")
    reports = results["report_server_side"]
    lines += ["", "HQ revenue report (3 years, campus x month x stream), server side: " + ", ".join(
        f"{int(size):,} entries p50 {ms['p50_ms']} ms (kept {ms['kept_p50_ms']} ms)"
        for size, ms in reports.items())]
    generation = results["generation"]
    lines.append(f"data generation: world {generation['world_seconds']} s, "
                 f"{generation['entries']:,} entries {generation['entries_seconds']} s"
                 + "".join(f", {k.replace('_', ' ')}: {v} s" for k, v in generation.items()
                           if k.startswith("seconds_to_")))
    lines.append("peak RSS per worker: " + ", ".join(
        f"{mb} MB" for mb in results["worker_peak_rss_mb"]))
    scoping = results["scoping"]
    lines.append(f"tenant scoping (learners list): scoped {scoping['scoped_per_s']}/s, unscoped "
                 f"{scoping['unscoped_per_s']}/s, ratio {scoping['ratio']} "
                 f"(overhead {scoping['overhead_percent']} %)")
    nodes = results["nodes"]
    lines.append(
        "two nodes behind nginx (Redis throttling): dashboard "
        f"{nodes['two_nodes']['campus dashboard']['requests_per_second']:.0f} req/s vs one "
        f"node {nodes['one_node']['campus dashboard']['requests_per_second']:.0f} req/s "
        f"(x {nodes['dashboard_pair_over_one']}); sessions across nodes "
        f"{'ok' if nodes['sessions_shared'] else 'FAILED'}; throttling across nodes "
        f"{'ok' if nodes['throttle_shared'] else 'FAILED'}")
    lines += ["", f"{'target':<56}{'measured':>10}{'target':>9}  met"]
    for name, verdict in results["verdicts"].items():
        lines.append(f"{name:<56}{verdict['measured']:>10}{verdict['target']:>9}  "
                     f"{'yes' if verdict['met'] else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/20 scale, short loads")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    largest = int(re.sub(r"[_,]", "", os.environ.get("BENCH_ROWS", "0")) or 0)
    try:
        results = run(args.quick, largest or None)
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    print(f"\nwritten to {args.output}")
    failed = [nodes for nodes in ("sessions_shared", "throttle_shared")
              if not results["nodes"][nodes]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
