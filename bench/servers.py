"""The processes a bench run starts on 127.0.0.1: gunicorn nodes, nginx in front of two, Redis.

Each is a context manager that leaves nothing running behind it, even when the run fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.redis_server import redis_server_binary, start_redis

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60.0, host: str | None = None) -> None:
    """Return once `url` answers 200; raise RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the bench only probes loopback over http, not {url}")
    request = urllib.request.Request(url, headers={"Host": host} if host else {})  # noqa: S310
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def _stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers: the master's children."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


@contextmanager
def gunicorn(env: Mapping[str, str], log: Path, workers: int = 2) -> Iterator[tuple[int, int]]:
    """gunicorn with the project's own gunicorn.conf.py (sync workers) on a free loopback
    port; yields (port, master pid) once `/healthz` answers."""
    port = free_port()
    settings = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port),
                "WEB_CONCURRENCY": str(workers)}
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT, env=settings, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        yield port, process.pid
    finally:
        _stop(process)


NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {base}/body;
    proxy_temp_path {base}/proxy;
    fastcgi_temp_path {base}/fastcgi;
    uwsgi_temp_path {base}/uwsgi;
    scgi_temp_path {base}/scgi;
    upstream campusflow {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://campusflow;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@contextmanager
def nginx(upstream_ports: list[int]) -> Iterator[int]:
    """nginx (Debian's) on a free loopback port, spreading requests over the upstreams round
    robin; yields its port."""
    executable = shutil.which("nginx") or "/usr/sbin/nginx"
    base = Path(tempfile.mkdtemp(prefix="campusflow-nginx-"))
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports)
    (base / "nginx.conf").write_text(NGINX_CONF.format(base=base, port=port, servers=servers))
    process = subprocess.Popen(  # noqa: S603 (Debian's nginx, our own config)
        [executable, "-c", str(base / "nginx.conf"), "-p", str(base), "-e",
         str(base / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        yield port
    finally:
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """Debian's redis-server on a free loopback port, nothing persisted (the suite's own
    throwaway server, tests/support/redis_server.py); yields its URI."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    server = start_redis(binary)
    try:
        yield server.url
    finally:
        server.stop()
