"""A throwaway Redis for the suite (a pytest plugin, listed in tests/conftest.py).

Fixtures
- `redis_server` (session): Debian's `redis-server` started on 127.0.0.1 at a free port, with no
  persistence (`--save '' --appendonly no`, its own temporary directory), ready once it answers
  PING, stopped at the end of the session. `.url` (`redis://127.0.0.1:<port>/0`), `.flush()`.
  Without the binary the tests that use it are skipped, except under `CI=true`, where that is a
  failure (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

IN_CI = os.environ.get("CI", "").lower() == "true"


def redis_server_binary() -> str | None:
    """The installed `redis-server`, or None."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ThrowawayRedis:
    process: subprocess.Popen
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def flush(self) -> None:
        """Forget every key (each test starts with no counters)."""
        with self.client() as client:
            client.flushall()

    def stop(self) -> None:
        try:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_redis(binary: str, timeout: float = 20.0) -> ThrowawayRedis:
    """Start `binary` on 127.0.0.1 at a free port and wait until it answers PING."""
    folder = Path(tempfile.mkdtemp(prefix="campusflow-redis-"))
    port = _free_port()
    log = folder / "redis.log"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--logfile", str(log), "--daemonize", "no"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    server = ThrowawayRedis(process, port, folder)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            output = log.read_text(errors="replace") if log.exists() else ""
            server.stop()
            raise RuntimeError(f"redis-server exited with {process.returncode}: {output[-2000:]}")
        try:
            with server.client() as client:
                if client.ping():
                    return server
        except redis.ConnectionError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"redis-server did not answer PING on port {port} in {timeout} s")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ThrowawayRedis]:
    """The throwaway Redis; skipped without `redis-server`, except in CI (a failure)."""
    binary = redis_server_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server not installed (apt-get install redis-server): Redis tests "
                    "skipped")
    server = start_redis(binary)
    yield server
    server.stop()
