"""Load with wrk, and the signed-in identities it loads with (a session cookie, a bearer token).

Every URL is checked once with the same headers before it is loaded: a sign-in that silently
failed would otherwise measure the redirect to the sign-in page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

import requests

WRK_CONNECTIONS = 16
WRK_THREADS = 2
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Target:
    """One loaded URL: a path on a site (Host header), with its identity's headers."""

    name: str
    path: str
    host: str
    headers: dict[str, str]
    marker: str  # text the page must contain (proves the identity reached the real page)


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors, timeouts and non-2xx/3xx answers


class BenchError(RuntimeError):
    """The bench cannot measure what it was asked to (a failed sign-in, a server error…)."""


def sign_in(base: str, host: str, email: str, password: str) -> str:
    """Sign in through the real form (CSRF token included); the `Cookie` header value."""
    client = requests.Session()
    headers = {"Host": host}
    form = client.get(f"{base}/login", headers=headers, timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    if form.status_code != 200 or token is None:
        raise BenchError(f"no sign-in form on {host} ({form.status_code})")
    answer = client.post(f"{base}/login", headers=headers, allow_redirects=False, timeout=30,
                         data={"csrf_token": token.group(1), "email": email,
                               "password": password, "next": ""})
    if answer.status_code != 302:
        raise BenchError(f"sign-in of {email} on {host} failed ({answer.status_code})")
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def bearer_token(base: str, host: str, email: str, password: str) -> str:
    answer = requests.post(f"{base}/api/v1/auth/token", headers={"Host": host}, timeout=30,
                           json={"email": email, "password": password})
    if answer.status_code != 200:
        raise BenchError(f"no API token for {email} on {host} ({answer.status_code})")
    return answer.json()["token"]


def check(base: str, target: Target) -> None:
    """One request as wrk will send it: 200 and the marker, or BenchError."""
    answer = requests.get(base + target.path, timeout=60, allow_redirects=False,
                          headers={"Host": target.host, **target.headers})
    if answer.status_code != 200 or target.marker not in answer.text:
        raise BenchError(f"{target.name}: {target.host}{target.path} answered "
                         f"{answer.status_code} without {target.marker!r}")


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> LoadResult:
    """The figures of `wrk --latency`'s report."""
    percentile = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE))
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rate is None or total is None or "50" not in percentile or "99" not in percentile:
        raise BenchError(f"unreadable wrk report:\n{output}")
    errors = sum(int(n) for n in re.findall(
        r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(float(rate.group(1)), _milliseconds(percentile["50"]),
                      _milliseconds(percentile["99"]), int(total.group(1)),
                      errors + (int(non_2xx.group(1)) if non_2xx else 0))


def wrk(base: str, target: Target, seconds: int) -> LoadResult:
    """`wrk --latency` with 16 connections for `seconds` against one target."""
    executable = shutil.which("wrk") or "/usr/bin/wrk"
    command = [executable, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s",
               "--latency", "--timeout", "10s", "-H", f"Host: {target.host}"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    finished = subprocess.run([*command, base + target.path],  # noqa: S603 (Debian's wrk)
                              capture_output=True, text=True, check=False,
                              timeout=seconds + 60)
    if finished.returncode != 0:
        raise BenchError(f"wrk failed: {finished.stderr or finished.stdout}")
    return parse_wrk(finished.stdout)
