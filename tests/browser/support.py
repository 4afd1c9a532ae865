"""Helpers of the real-browser tests: the served app, Chromium's launch, sign-in, screenshots,
and the app's own translations (to assert a page's text in the language it is meant to speak)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CAMPUSFLOW_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
ACTION_TIMEOUT_MS = 15_000  # one click, fill or navigation; a loaded CI machine stays far under
EXPECT_TIMEOUT_MS = 10_000  # expect(...) retries until then
PASSWORD = "campusflow-demo"  # DEMO_PASSWORD's default (core/config.py); the server gets it

# Headless Chromium on a closed network: no sandbox (CI runs as root), no GPU, and none of the
# background connections to Google that this machine's network refuses. `*.localhost` is mapped
# to the IPv4 loopback the server listens on (Chromium resolves it to loopback anyway; this
# spares it a try on ::1).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1",
]


# --- the app, served -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServedApp:
    """The real app (gunicorn) on 127.0.0.1:<port> with `make run`'s demo data, in a folder of
    its own (SQLite file, log) deleted afterwards."""

    port: int
    folder: Path
    process: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.folder / "server.log"

    def url(self, site: str | None, path: str = "/") -> str:
        host = f"{site}.localhost" if site else "localhost"
        return f"http://{host}:{self.port}{path}"

    @property
    def environment(self) -> dict[str, str]:
        # Built from scratch, as `make run` sets it: nothing of the developer's or the test
        # suite's settings (CAMPUSFLOW_ENV=test, a Stripe key, a Redis URL…) leaks in.
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        env.update({
            "CAMPUSFLOW_ENV": "development",
            "CAMPUSFLOW_DOMAIN": f"localhost:{self.port}",
            "DATABASE_URL": f"sqlite:///{self.folder / 'demo.db'}",
            "DEMO_PASSWORD": PASSWORD,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _flask(self, *args: str) -> None:
        """`flask --app wsgi <args>`, as `make seed` runs it; its output goes to the log."""
        with self.log_path.open("a") as log:
            log.write(f"$ flask {' '.join(args)}\n")
            log.flush()
            done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                                  cwd=ROOT, env=self.environment, stdout=log,
                                  stderr=subprocess.STDOUT, timeout=600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n"
                               f"{self.log_tail()}")

    def _compile_translations(self) -> None:
        """`make translations` when a messages.mo is missing or older than its messages.po (as
        `make run` and `make test` do first): the served pages speak what the catalogues say."""
        catalogues = sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po"))
        stale = [po for po in catalogues if not po.with_suffix(".mo").exists()
                 or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
        if not stale:
            return
        with self.log_path.open("a") as log:
            done = subprocess.run(
                [str(Path(sys.executable).parent / "pybabel"), "compile", "--directory",
                 "translations"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=120,
                check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pybabel compile failed:\n{self.log_tail()}")

    def start(self, ready_within: float = 60.0) -> None:
        self._compile_translations()
        self._flask("db", "upgrade")
        self._flask("seed-demo")
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=self.environment, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n"
                                   f"{self.log_tail()}")
            try:
                probe = self.url(None, "/healthz")  # http://localhost:<port>: ours, no file:
                with urllib.request.urlopen(probe, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)  # polling a process that is starting, not waiting in a test
        raise RuntimeError(f"/healthz did not answer within {ready_within:.0f} s:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # gunicorn's arbiter stops its workers on SIGTERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)


def serve_demo() -> ServedApp:
    server = ServedApp(free_port(), Path(tempfile.mkdtemp(prefix="campusflow-browser-")))
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    return server


# --- pages ------------------------------------------------------------------------------------


def screenshot(page, name: str) -> Path:
    """A full-page screenshot in tests/browser/screenshots/<name>.png (gitignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, url: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the site's own form and check it worked (a sign-out button appears)."""
    page.goto(url)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    from playwright.sync_api import expect

    expect(page.locator('header form[action="/logout"] button')).to_be_visible()


def page_language(page) -> str:
    """The language of the page as its <html lang> says ("fr" for fr-BE)."""
    lang = page.locator("html").get_attribute("lang") or "en"
    return re.split(r"[-_]", lang)[0].lower()


# --- the app's translations --------------------------------------------------------------------


@functools.cache
def _catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of translations/<language>, translated entries only (no fuzzy ones,
    which `pybabel compile` leaves out too)."""
    from babel.messages.pofile import read_po

    path = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    return {message.id: message.string for message in catalogue
            if isinstance(message.id, str) and message.id and isinstance(message.string, str)
            and message.string and not message.fuzzy}


def gettext(language: str, msgid: str, **values: object) -> str:
    """What the app shows for `msgid` in `language`, as Flask-Babel would (English when the
    catalogue has no translation)."""
    text = msgid if language == "en" else _catalogue(language).get(msgid, msgid)
    return text % values if values else text


def translated(language: str, msgid: str, **values: object) -> str:
    """`gettext`, and fail when the catalogue has no translation for it: a test that expects
    French must not pass on English text."""
    assert msgid in _catalogue(language), (
        f"translations/{language} has no translation of {msgid!r}: the page cannot show it in "
        f"that language")
    return gettext(language, msgid, **values)


def choose_language(page, language: str) -> None:
    """Choose `language` with the language switcher in the page's header
    (templates/_language.html): a link or button for that language (hreflang, lang or value
    naming it), or a <select> offering it, submitted with its form's button when it has one."""
    header = page.locator("header")
    option = header.locator(f'select option[value="{language}"]')
    if option.count():
        select = header.locator("select").filter(has=option)
        select.select_option(language)
        submit = header.locator("form").filter(has=select).locator(
            "button[type=submit], input[type=submit]")
        if submit.count() and submit.first.is_visible():
            submit.first.click()
        return
    header.locator(
        f'a[hreflang="{language}"], a[lang="{language}"], '
        f'button[value="{language}"], button[lang="{language}"]').first.click()
