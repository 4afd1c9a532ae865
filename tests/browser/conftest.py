"""Real-browser tests: Playwright (Python, sync API) driving Debian's Chromium, headless, against
the real app served by gunicorn on 127.0.0.1 with `make run`'s demo data.

The tests talk HTTP only: they never take the suite's `app` fixture, so they run once (not once
per database). The server, Playwright and Chromium live for this package only (package scope):
they are gone before the rest of the suite runs. Without Chromium the tests are skipped with a
reason, except under CI=true, where that is a failure: CI must run them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.support import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    EXPECT_TIMEOUT_MS,
    IN_CI,
    SCREENSHOTS,
    ServedApp,
    serve_demo,
    sign_in,
)


def pytest_configure(config: pytest.Config) -> None:
    # setup.cfg registers the marker; this keeps `--strict-markers` happy when it does not yet.
    if not any(line.startswith("browser:") for line in config.getini("markers")):
        config.addinivalue_line(
            "markers", "browser: drives Debian's Chromium against the app served on 127.0.0.1")


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}: the browser tests must run in CI, not be skipped",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def playwright():
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package", autouse=True)
def _fresh_screenshots() -> None:
    """Screenshots of this run only: none left over from an earlier one."""
    if SCREENSHOTS.exists():
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()


@pytest.fixture(scope="package")
def server(playwright) -> Iterator[ServedApp]:
    """`flask db upgrade` + `flask seed-demo` on a throwaway SQLite file, then gunicorn."""
    served = serve_demo()
    yield served
    served.stop()


@pytest.fixture(scope="package")
def browser(playwright, server):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def _failure_screenshots(request: pytest.FixtureRequest, pages: list) -> None:
    reports = request.node.stash.get(_REPORTS, {})
    if not any(report.failed for report in reports.values()):
        return
    SCREENSHOTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    for number, page in enumerate(p for p in pages if not p.is_closed()):
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{stem}-{number}.png"), full_page=True)


@pytest.fixture
def new_context(browser, request) -> Iterator[Callable]:
    """`new_context(**options)` → a fresh browser context (own cookies), closed after the test;
    when the test fails, each of its open pages is saved as screenshots/FAILED-<test>-<n>.png."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    try:
        _failure_screenshots(request, [page for context in contexts for page in context.pages])
    finally:
        for context in contexts:
            context.close()


@pytest.fixture(scope="package")
def signed_in_state(browser, server) -> Callable[[str, str], dict]:
    """`signed_in_state(site, email)` → the storage state (cookies) of that account signed in on
    that site through its form, once per package: pages that only need someone signed in reuse
    it instead of signing in again."""
    states: dict[tuple[str, str], dict] = {}

    def state(site: str, email: str) -> dict:
        if (site, email) not in states:
            context = browser.new_context()
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            try:
                page = context.new_page()
                sign_in(page, server.url(site, "/login"), email)
                states[site, email] = context.storage_state()
            finally:
                context.close()
        return states[site, email]

    return state
