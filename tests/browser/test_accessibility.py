"""The main pages of each site, as Chromium renders them with the demo data, are accessible:
axe-core (from the npm registry, `npm ci`) finds no serious or critical WCAG 2 A/AA violation,
and each page reflows without sideways scrolling on a desktop window and at 320 px wide.

How axe gets into the page: the app's Content-Security-Policy allows scripts from the page's own
origin only (no inline script, no other host). Rather than switching that policy off
(`bypass_csp=True` would also hide a page whose own scripts break under it), the browser context
answers one extra same-origin path, AXE_URL_PATH, with node_modules/axe-core/axe.min.js, and the
test adds `<script src="…">` for it: axe is served locally, from the site's own origin, and each
page is checked exactly as the app sends it, CSP included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.browser.support import AXE_SCRIPT, IN_CI

if not IN_CI:  # in CI a missing playwright is an import error: a failure, never a skip
    pytest.importorskip("playwright", reason="no playwright: pip install -e '.[test]'")

from playwright.sync_api import expect

from tests.browser.support import choose_language, screenshot

pytestmark = pytest.mark.browser

AXE_URL_PATH = "/__browser-tests__/axe.min.js"  # not an app route: answered by the test's browser
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]},
               "resultTypes": ["violations"]}
BLOCKING = ("serious", "critical")

MANAGER = "manager@molenbeek.campusflow.test"
HQ = "hq@campusflow.test"
MICROSOFT = "contact@microsoft.campusflow.test"


@dataclass(frozen=True)
class MainPage:
    name: str
    site: str
    path: str
    user: str | None = None
    language: str | None = None  # chosen with the header's language switcher first
    follow: str | None = None  # then a link to click (CSS), for pages whose URL holds an id…
    lands_on: str = ""  # …and the URL (regular expression) it leads to


MAIN_PAGES = [
    MainPage("public-molenbeek", "molenbeek", "/"),
    MainPage("public-casablanca-arabic", "casablanca", "/", language="ar"),
    MainPage("apply-form", "molenbeek", "/", follow='main a[href^="/apply/"]',
             lands_on=r"/apply/\d+$"),
    MainPage("sign-in", "molenbeek", "/login"),
    MainPage("campus-dashboard", "molenbeek", "/", MANAGER),
    MainPage("learners", "molenbeek", "/learners", MANAGER),
    MainPage("cohorts", "molenbeek", "/cohorts", MANAGER),
    MainPage("applications", "molenbeek", "/applications", MANAGER),
    MainPage("hq-home", "hq", "/", HQ),
    MainPage("consolidated-revenue", "hq", "/reports/revenue", HQ),
    MainPage("partner-portal", "partners", "/", MICROSOFT),
    MainPage("partner-invoices", "partners", "/invoices", MICROSOFT),
]

_SUMMARY = """async (options) => {
  const results = await axe.run(document, options);
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary, html: n.html})),
  }));
}"""


def _describe(violation: dict) -> str:
    lines = [f"[{violation['impact']}] {violation['id']}: {violation['help']} "
             f"({violation['helpUrl']})"]
    for node in violation["nodes"][:10]:
        lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
        lines.extend(f"        {line}" for line in (node["summary"] or "").splitlines()[:4])
    if len(violation["nodes"]) > 10:
        lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


@pytest.fixture(scope="package")
def axe_source() -> bytes:
    if not AXE_SCRIPT.exists():
        message = f"{AXE_SCRIPT.relative_to(AXE_SCRIPT.parents[2])} is missing: run `npm ci`"
        if IN_CI:
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return AXE_SCRIPT.read_bytes()


def _serve_axe(context, axe_source: bytes) -> None:
    context.route(re.compile(rf"^http://[^/]+{re.escape(AXE_URL_PATH)}$"),
                  lambda route: route.fulfill(status=200, body=axe_source,
                                              content_type="text/javascript"))


def _violations(page) -> list[dict]:
    origin = re.match(r"^https?://[^/]+", page.url).group(0)
    page.add_script_tag(url=origin + AXE_URL_PATH)
    return page.evaluate(_SUMMARY, AXE_OPTIONS)


def _open(main_page: MainPage, new_context, server, signed_in_state, axe_source=None,
          width: int = 1280):
    """A fresh context (signed in as the page's user, if any) on `main_page`."""
    options = {"storage_state": signed_in_state(main_page.site, main_page.user)} \
        if main_page.user else {}
    context = new_context(viewport={"width": width, "height": 900}, **options)
    if axe_source is not None:
        _serve_axe(context, axe_source)
    page = context.new_page()
    response = page.goto(server.url(main_page.site, main_page.path))
    assert response is not None and response.status == 200, response and response.status
    if main_page.language:
        choose_language(page, main_page.language)
        expect(page.locator("html")).to_have_attribute(
            "lang", re.compile(rf"^{main_page.language}\b"))
    if main_page.follow:
        page.locator(main_page.follow).first.click()
        expect(page).to_have_url(re.compile(main_page.lands_on))
    if main_page.user:  # still signed in: not checking the sign-in page by mistake
        expect(page.locator('header form[action="/logout"]')).to_have_count(1)
    return page


WIDTHS = pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "phone"])
ON_MAIN_PAGES = pytest.mark.parametrize("main_page", MAIN_PAGES, ids=[p.name for p in MAIN_PAGES])


@WIDTHS
@ON_MAIN_PAGES
def test_no_serious_accessibility_violation(axe_source, main_page: MainPage, width: int,
                                            new_context, server, signed_in_state):
    """On a desktop window and on a phone (where wide tables scroll in their own box, which a
    keyboard must reach too)."""
    page = _open(main_page, new_context, server, signed_in_state, axe_source, width=width)
    violations = _violations(page)
    screenshot(page, f"{'axe' if width >= 1280 else 'phone'}-{main_page.name}")

    blocking = [v for v in violations if v["impact"] in BLOCKING]
    others = [v for v in violations if v["impact"] not in BLOCKING]
    if others:  # shown with the test's output; they do not fail it
        print(f"{page.url} at {width} px: {len(others)} minor or moderate finding(s):\n"
              + "\n".join(_describe(v) for v in others))
    assert not blocking, (
        f"{page.url} at {width} px: {len(blocking)} serious or critical violation(s) "
        f"(axe-core, WCAG 2 A/AA):\n" + "\n".join(_describe(v) for v in blocking))


# What makes the page scroll sideways: elements past the window's trailing edge (the right one,
# or the left one in a right-to-left page) whose overflow no scrolling box of their own contains
# (a wide table in an overflow-x:auto wrapper is fine).
_SIDEWAYS = """() => {
  const root = document.documentElement, width = root.clientWidth;
  const rtl = getComputedStyle(root).direction === "rtl";
  const scrolls = el => ["auto", "scroll", "hidden", "clip"].includes(
    getComputedStyle(el).overflowX);
  // Clipped by a scrolling ancestor: for an absolutely positioned element, only one at or above
  // its containing block (its nearest positioned ancestor); a fixed one never is.
  const contained = el => {
    const position = getComputedStyle(el).position;
    if (position === "fixed") return false;
    let free = position === "absolute";
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (free && getComputedStyle(up).position === "static") continue;
      free = false;
      if (scrolls(up)) return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map(c => "." + c).join("");
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    const out = rtl ? box.left < -1 : box.right > width + 1;
    if (!box.width || !out || contained(el) || found.some(f => f.el.contains(el))) continue;
    found.push({el, text: name(el) + " (x " + Math.round(box.left) + " to "
                          + Math.round(box.right) + ")"});
  }
  if (!found.length)  // sticking out by a margin, a shadow…: the widest boxes, for a start
    [...document.body.querySelectorAll("*")].map(el => [el, el.getBoundingClientRect()])
      .filter(([, box]) => box.right > width || box.left < 0)
      .sort(([, a], [, b]) => (b.right - b.left) - (a.right - a.left)).slice(0, 3)
      .forEach(([el, box]) => found.push({el, text: name(el) + " (x " + Math.round(box.left)
                                                  + " to " + Math.round(box.right) + ")"}));
  return {scrollWidth: root.scrollWidth, width, culprits: found.slice(0, 8).map(f => f.text)};
}"""


@WIDTHS
@ON_MAIN_PAGES
def test_main_page_fits_the_window_without_sideways_scrolling(
        main_page: MainPage, width: int, new_context, server, signed_in_state):
    """WCAG 2.1 1.4.10 Reflow: at 320 CSS pixels wide (a phone, or 1280 at 400 % zoom) the
    page reads without scrolling sideways; data tables may scroll inside their own box."""
    page = _open(main_page, new_context, server, signed_in_state, width=width)
    layout = page.evaluate(_SIDEWAYS)
    assert layout["scrollWidth"] <= layout["width"], (
        f"{page.url} at {width} px: the page is {layout['scrollWidth']} px wide; sticking out: "
        + "; ".join(layout["culprits"]))


def test_the_check_reports_violations_on_a_page_served_with_the_apps_csp(
        axe_source, new_context, server):
    """The check above can fail: on a real page (CSP and all), an image without a text
    alternative and an input without a label are reported, as critical."""
    context = new_context()
    _serve_axe(context, axe_source)
    page = context.new_page()
    page.goto(server.url("molenbeek", "/login"))
    page.locator("main").evaluate(
        """main => main.insertAdjacentHTML("beforeend",
             '<img src="/static/css/app.css"><input type="text" name="unlabelled">')""")
    found = {v["id"]: v for v in _violations(page)}
    assert found.keys() >= {"image-alt", "label"}, sorted(found)
    assert found["image-alt"]["impact"] == found["label"]["impact"] == "critical"
    assert "[critical] image-alt" in _describe(found["image-alt"])


def test_the_reflow_check_names_what_sticks_out(new_context, server):
    """The check above can fail, and says why: a box wider than the phone is found and named."""
    page = new_context(viewport={"width": 320, "height": 900}).new_page()
    page.goto(server.url("molenbeek", "/login"))
    assert page.evaluate(_SIDEWAYS)["scrollWidth"] <= 320
    page.locator("main").evaluate("""main => {
        const wide = document.createElement("div");
        wide.id = "too-wide";
        wide.textContent = "A box wider than the phone";
        wide.style.width = "900px";  // CSSOM, which the CSP allows (no style attribute in HTML)
        main.append(wide);
    }""")
    layout = page.evaluate(_SIDEWAYS)
    assert layout["scrollWidth"] > 320
    assert any(culprit.startswith("div#too-wide") for culprit in layout["culprits"]), layout
