"""The layout and its accessibility: each site's identity and navigation, the public pages of a
campus, forms (labels, error summary), keyboard use, flash messages after actions, error pages,
and a stylesheet that mirrors for right-to-left languages and keeps its colours readable."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from core.extensions import db
from core.layout import error_summary_items
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.support.data import HQ, PARTNER_CONTACT, manager, staff

ROOT = Path(__file__).resolve().parents[2]
STYLESHEET = ROOT / "static" / "css" / "app.css"
TEMPLATES = ROOT / "templates"

PUBLIC_CAMPUS_NAV = ["/", "/catalogue", "/events", "/apply"]
# Paths of the campus team's pages: never linked from a page an applicant sees.
STAFF_PATHS = ("/learners", "/cohorts", "/applications", "/enrolments", "/manage", "/coworking",
               "/revenue", "/orders", "/invoices", "/royalties", "/billing", "/audit",
               "/outcomes", "/certification-awards")
LABELLED_ELSEWHERE = ("aria-label", "aria-labelledby")
NOT_TO_LABEL = {"hidden", "submit", "button", "reset", "image"}


class Page(HTMLParser):
    """What these tests read in a page: the header, links, form controls and their labels,
    tabindex values, flash messages and the error summary."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.header_text: list[str] = []
        self.nav_links: list[str] = []  # links of the header's navigation
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.controls: list[dict] = []
        self.labels_for: set[str] = set()
        self.tabindexes: list[str] = []
        self.flashes: list[tuple[str, str]] = []  # (role, text) of each flash message
        self.summary_links: list[str] = []
        self.html_attrs: dict[str, str | None] = {}
        self.metas: list[dict[str, str | None]] = []
        self.fieldsets_without_legend = 0
        self._legends: list[bool] = []  # one per open fieldset: has it a legend yet?
        self._flash: list | None = None
        self.feed(html)
        self.close()

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def inside(self, tag: str, **attrs: str) -> bool:
        return any(name == tag and all(a.get(k) == v for k, v in attrs.items())
                   for name, a in self.stack)

    def inside_class(self, class_name: str) -> bool:
        return any(class_name in (a.get("class") or "").split() for _, a in self.stack)

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = dict(attrs_list)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if "tabindex" in attrs:
            self.tabindexes.append(attrs["tabindex"] or "")
        if tag == "html":
            self.html_attrs = attrs
        elif tag == "meta":
            self.metas.append(attrs)
        elif tag == "a" and attrs.get("href"):
            self._link(attrs["href"])
        else:
            self._form_part(tag, attrs)
        if self.inside_class("flash") and attrs.get("role") in ("status", "alert"):
            self._flash = [attrs["role"], []]
        if tag not in self.VOID:
            self.stack.append((tag, attrs))

    def _form_part(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag == "label" and attrs.get("for"):
            self.labels_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, "attrs": attrs, "in_label": self.inside("label"),
                                  "in_fieldset": bool(self._legends)})
        elif tag == "fieldset":
            self._legends.append(False)
        elif tag == "legend" and self._legends:
            self._legends[-1] = True

    def _link(self, href: str) -> None:
        self.links.append(href)
        if self.inside("header") and self.inside("nav"):
            self.nav_links.append(href)
        if self.inside("div", id="error-summary"):
            self.summary_links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "fieldset" and self._legends:
            self.fieldsets_without_legend += not self._legends.pop()
        if self._flash is not None and tag == "p":
            self.flashes.append((self._flash[0], " ".join("".join(self._flash[1]).split())))
            self._flash = None
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self.inside("header"):
            self.header_text.append(data)
        if self._flash is not None:
            self._flash[1].append(data)

    def ungrouped_choices(self) -> list[str]:
        """Radio buttons, and checkboxes sharing a name, outside a fieldset."""
        names = [c["attrs"].get("name") for c in self.controls
                 if c["attrs"].get("type") == "checkbox"]
        return [f'<input type="{c["attrs"]["type"]}" name="{c["attrs"].get("name")}">'
                for c in self.controls if not c["in_fieldset"] and (
                    c["attrs"].get("type") == "radio" or (
                        c["attrs"].get("type") == "checkbox"
                        and names.count(c["attrs"].get("name")) > 1))]

    @property
    def header(self) -> str:
        return " ".join(" ".join(self.header_text).split())

    def unlabelled(self) -> list[str]:
        missing = []
        for control in self.controls:
            attrs = control["attrs"]
            if control["tag"] == "input" and (attrs.get("type") or "text") in NOT_TO_LABEL:
                continue
            if control["in_label"] or any(attrs.get(name) for name in LABELLED_ELSEWHERE):
                continue
            if not attrs.get("id") or attrs["id"] not in self.labels_for:
                missing.append(f'<{control["tag"]} name="{attrs.get("name")}" '
                               f'id="{attrs.get("id")}">')
        return missing


def page_of(response) -> Page:
    return Page(response.get_data(as_text=True))


def in_english(client):
    """The client's choice of English (the texts checked below are the English ones; a campus
    site otherwise speaks its campus's language)."""
    with client.client.session_transaction(base_url=client.base_url) as session:
        session["locale"] = "en"
    return client


def signed_in(site, email: str, subdomain: str):
    """A client signed in on `subdomain` and speaking English, its welcome message shown."""
    client = site(subdomain)
    response = client.sign_in(email)
    assert response.status_code == 302, email
    in_english(client)
    assert len(page_of(client.get(response.headers["Location"])).flashes) == 1  # the welcome
    return client


# ---- identity and navigation of each site --------------------------------------------------------


def test_campus_home_shows_the_campus_name_city_and_the_campus_navigation(site, base):
    page = page_of(signed_in(site, manager("molenbeek"), "molenbeek").get("/"))
    assert "Molenbeek" in page.header and "Brussels" in page.header
    assert "Antwerp" not in page.header
    for path in ("/", "/learners", "/cohorts", "/applications", "/enrolments"):
        assert path in page.nav_links, path
    assert "/reports/revenue" not in page.nav_links and "/partner/agreements" not in page.nav_links


def test_staff_navigation_leaves_out_the_money_screens(site, base):
    page = page_of(signed_in(site, staff("molenbeek"), "molenbeek").get("/"))
    assert "Molenbeek" in page.header and "Brussels" in page.header
    assert "/learners" in page.nav_links
    assert "/billing" not in page.nav_links and "/orders" not in page.nav_links


def test_hq_home_shows_hq_and_the_network_navigation(site, base):
    page = page_of(signed_in(site, HQ, "hq").get("/"))
    assert "HQ" in page.header
    assert "Molenbeek" not in page.header
    for path in ("/", "/reports/revenue", "/agreements", "/fx"):
        assert path in page.nav_links, path
    assert "/learners" not in page.nav_links and "/apply" not in page.nav_links


def test_partner_home_shows_the_portal_the_partner_and_its_navigation(site, base):
    page = page_of(signed_in(site, PARTNER_CONTACT, "partners").get("/"))
    assert "Partners" in page.header and "Microsoft" in page.header
    assert "/partner/agreements" in page.nav_links and "/impact" in page.nav_links
    assert "/learners" not in page.nav_links and "/reports/revenue" not in page.nav_links


def test_public_apex_has_the_public_navigation_and_no_sign_in(site, base):
    page = page_of(site(None).get("/"))
    assert page.nav_links == ["/", "/catalogue"]
    assert "/login" not in page.links  # nobody signs in on the apex


@pytest.mark.parametrize("path", ["/", "/apply", "/events", "/catalogue", "/apply/{cohort}",
                                  "/events/{event}/register", "/nowhere"])
def test_public_pages_of_a_campus_have_the_public_nav_and_no_staff_links(site, base, path):
    url = path.format(cohort=base.owned["cohort"]["molenbeek"][0],
                      event=base.owned["event"]["molenbeek"][0])
    page = page_of(site("molenbeek").get(url))
    assert "Molenbeek" in page.header and "Brussels" in page.header
    assert page.nav_links == PUBLIC_CAMPUS_NAV
    staff_links = [link for link in page.links if link.startswith(STAFF_PATHS)]
    assert staff_links == []


def test_signed_in_manager_sees_the_public_nav_on_public_pages(site, base):
    molenbeek = signed_in(site, manager("molenbeek"), "molenbeek")
    page = page_of(molenbeek.get("/apply"))
    assert page.nav_links == PUBLIC_CAMPUS_NAV
    assert "/" in page.links  # the way back to their dashboard
    assert "/learners" in page_of(molenbeek.get("/")).nav_links


def test_current_page_is_marked_in_the_navigation(site, base):
    html = signed_in(site, manager("molenbeek"), "molenbeek").get("/learners").get_data(
        as_text=True)
    assert re.search(r'<a href="/learners" aria-current="page">', html)
    record = signed_in(site, manager("molenbeek"), "molenbeek").get(
        f"/learners/{base.learner_ids['molenbeek'][0]}").get_data(as_text=True)
    assert re.search(r'<a href="/learners" aria-current="true">', record)  # a page under it


# ---- the layout ---------------------------------------------------------------------------------


def test_layout_has_a_viewport_meta_a_language_a_direction_and_a_working_skip_link(site, base):
    page = page_of(site("molenbeek").get("/"))
    viewport = [meta for meta in page.metas if meta.get("name") == "viewport"]
    assert viewport and "width=device-width" in viewport[0]["content"]
    assert page.html_attrs.get("lang")
    assert page.html_attrs.get("dir") in ("ltr", "rtl")
    assert "#main" in page.links and "main" in page.ids


def test_layout_loads_no_asset_from_another_origin(site, base):
    html = site("molenbeek").get("/").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http://", "https://", "//")) or "localhost" in url, url
    css = STYLESHEET.read_text()
    assert "@import" not in css and "url(http" not in css and "@font-face" not in css


# ---- forms --------------------------------------------------------------------------------------


def summary_targets(page: Page) -> list[str]:
    assert page.summary_links, "no error summary"
    assert all(link.startswith("#") for link in page.summary_links)
    return [link[1:] for link in page.summary_links]


def invalid_ids(page: Page) -> set[str]:
    return {c["attrs"]["id"] for c in page.controls if c["attrs"].get("aria-invalid") == "true"}


def test_learner_form_with_errors_has_a_summary_linking_to_each_invalid_field(site, base):
    molenbeek = signed_in(site, manager("molenbeek"), "molenbeek")
    response = molenbeek.post("/learners/new", data={"full_name": "", "email": "nope"})
    assert response.status_code == 422
    page = page_of(response)
    targets = summary_targets(page)
    assert set(targets) == {"full_name", "email"} == invalid_ids(page)
    assert all(target in page.ids for target in targets)
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html[html.index('id="error-summary"') - 200:]
    assert re.search(r'<a href="#email"><strong>E-mail</strong>: ', html)  # named by its label


def test_public_application_form_with_errors_has_the_summary_too(site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    response = site("molenbeek").post(f"/apply/{cohort_id}", data={
        "full_name": "Kept Name", "email": "nope", "motivation": " "})
    assert response.status_code == 422
    page = page_of(response)
    targets = summary_targets(page)
    assert targets == ["email", "motivation", "consent"]  # in the order of the form
    assert all(target in page.ids for target in targets)
    assert set(targets) == invalid_ids(page)


def test_error_summary_items_follow_the_page_and_name_fields_by_their_label():
    page = ('<label for="city">City <span aria-hidden="true">*</span></label>'
            '<input id="city" name="city"><fieldset><legend>Kind</legend>'
            '<input type="radio" id="kind-a" name="kind"><label for="kind-a">A</label></fieldset>')
    items = error_summary_items({"kind": ["Pick one."], "ghost": ["Gone."], "city": ["Empty."],
                                 "_schema": ["Dates in the wrong order."]}, page)
    assert [(item.href, item.label, item.message) for item in items] == [
        (None, None, "Dates in the wrong order."),  # the whole form's problem first
        ("#city", "City", "Empty."),  # the required mark (aria-hidden) is not in the label
        ("#kind-a", "Kind", "Pick one."),  # a group: its first choice, named by its legend
        (None, None, "Gone."),  # no such field in the page: no link
    ]
    assert error_summary_items({}, page) == [] and error_summary_items(None, page) == []


def test_sign_in_form_with_a_wrong_password_links_the_summary_to_the_password(site, base):
    response = in_english(site("hq")).post("/login", data={"email": HQ, "password": "wrong"})
    page = page_of(response)
    assert summary_targets(page) == ["password"] and "password" in page.ids


def test_public_forms_ask_the_browser_to_fill_in_name_email_and_phone(site, base):
    cohort_id = base.owned["cohort"]["molenbeek"][0]
    event_id = base.owned["event"]["molenbeek"][0]
    for url in (f"/apply/{cohort_id}", f"/events/{event_id}/register"):
        page = page_of(site("molenbeek").get(url))
        autocomplete = {c["attrs"].get("name"): c["attrs"].get("autocomplete")
                        for c in page.controls}
        assert autocomplete["full_name"] == "name" and autocomplete["email"] == "email", url
        if "phone" in autocomplete:
            assert autocomplete["phone"] == "tel"
        required = {c["attrs"].get("name") for c in page.controls if "required" in c["attrs"]}
        assert {"full_name", "email"} <= required, url
        assert "Fields marked * are required." in in_english(site("molenbeek")).get(
            url).get_data(as_text=True)


def form_pages(base) -> list[tuple[str | None, str, str]]:
    """(e-mail signed in or None, site, path) of the main pages with forms, per site."""
    learner = base.learner_ids["molenbeek"][0]
    cohort = base.owned["cohort"]["molenbeek"][0]
    event = base.owned["event"]["molenbeek"][0]
    application = base.owned["application"]["molenbeek"][0]
    outcome = base.owned["outcome"]["molenbeek"][0]
    campus = ["/learners/new", f"/learners/{learner}/edit", f"/learners/{learner}",
              f"/learners/{learner}/record", "/learners", "/cohorts/new", f"/cohorts/{cohort}/edit",
              f"/cohorts/{cohort}", "/cohorts", "/applications", f"/applications/{application}",
              "/enrolments", "/coworking/plans/new", "/coworking/plans",
              "/coworking/memberships/new", "/coworking/memberships", "/coworking/sessions/new",
              "/coworking/sessions", "/manage/events/new", f"/manage/events/{event}/edit",
              f"/manage/events/{event}", "/manage/events", f"/outcomes/{outcome}/edit",
              "/revenue/entries/new", "/revenue/entries", "/orders/new", "/orders", "/invoices",
              "/audit", "/"]
    hq = ["/", "/catalogue/courses/new", "/catalogue/tracks/new", "/catalogue/certifications/new",
          "/agreements/new", "/invoice-runs", "/fx", "/royalties/rates", "/reports/impact",
          "/reports/impact/targets/new", "/reports/revenue", "/billing/entities", "/invoices",
          "/audit"]
    partners = ["/", "/partner/agreements", "/invoices", "/impact"]
    public = [f"/apply/{cohort}", f"/events/{event}/register", "/apply", "/events", "/catalogue",
              "/"]
    return ([(manager("molenbeek"), "molenbeek", path) for path in campus]
            + [(HQ, "hq", path) for path in hq]
            + [(PARTNER_CONTACT, "partners", path) for path in partners]
            + [(None, "molenbeek", path) for path in public]
            + [(None, "hq", "/login"), (None, "partners", "/login")])


def test_the_label_check_sees_an_unlabelled_control():
    assert Page('<label for="a">A</label><input id="a" name="a">'
                '<label>B <input name="b"></label><input type="hidden" name="c">'
                '<select aria-label="D" name="d"></select>').unlabelled() == []
    assert Page('<label for="a">A</label><input id="x" name="x"><textarea name="t"></textarea>'
                ).unlabelled() == ['<input name="x" id="x">', '<textarea name="t" id="None">']


def test_the_grouping_check_sees_choices_outside_a_fieldset():
    grouped = Page('<fieldset><legend>L</legend><input type="radio" name="r" id="r1">'
                   '<input type="radio" name="r" id="r2"></fieldset>'
                   '<input type="checkbox" name="consent" id="c">')
    assert grouped.ungrouped_choices() == [] and grouped.fieldsets_without_legend == 0
    loose = Page('<input type="checkbox" name="k" id="k1"><input type="checkbox" name="k" id="k2">'
                 '<fieldset><input type="radio" name="r" id="r1"></fieldset>')
    assert len(loose.ungrouped_choices()) == 2 and loose.fieldsets_without_legend == 1


def test_form_pages_label_every_control_and_group_their_choices(site, base):
    clients: dict[tuple, object] = {}
    problems = []
    checked = 0
    for email, subdomain, path in form_pages(base):
        key = (email, subdomain)
        if key not in clients:
            clients[key] = signed_in(site, email, subdomain) if email else site(subdomain)
        response = clients[key].get(path)
        assert response.status_code == 200, (subdomain, path, response.status_code)
        page = page_of(response)
        checked += len(page.controls)
        problems += [f"{subdomain}{path}: {control}" for control in page.unlabelled()]
        problems += [f"{subdomain}{path}: {choice}" for choice in page.ungrouped_choices()]
        if page.fieldsets_without_legend:
            problems.append(f"{subdomain}{path}: a fieldset without a legend")
        problems += [f"{subdomain}{path}: tabindex={value}" for value in page.tabindexes
                     if value.strip().lstrip("-").isdigit() and int(value) > 0]
    assert problems == []
    assert checked > 150  # the walk really met the forms


def test_no_template_sets_a_positive_tabindex():
    positive = re.compile(r'tabindex\s*=\s*["\']?\s*0*[1-9]')
    found = [str(path.relative_to(ROOT)) for path in TEMPLATES.rglob("*.html")
             if positive.search(path.read_text())]
    assert found == []


# ---- flash messages after each action ------------------------------------------------------------


def flashes_after(client, path: str, data: dict) -> list[tuple[str, str]]:
    response = client.post(path, data=data)
    assert response.status_code == 302, (path, response.status_code,
                                         response.get_data(as_text=True)[-2000:])
    return page_of(client.get(response.headers["Location"])).flashes


def test_creating_a_learner_flashes_their_name(site, base):
    molenbeek = signed_in(site, manager("molenbeek"), "molenbeek")
    assert flashes_after(molenbeek, "/learners/new", {
        "full_name": "Ada Lovelace", "email": "ada@example.org", "consent": "on"}) == [
        ("status", "Saved Ada Lovelace.")]


def test_scheduling_a_cohort_flashes_its_course_and_start(site, base):
    molenbeek = signed_in(site, manager("molenbeek"), "molenbeek")
    flashes = flashes_after(molenbeek, "/cohorts/new", {
        "course_id": str(base.catalogue["course"][0]), "starts_on": "2027-10-04",
        "ends_on": "2028-03-31", "schedule": "Mon-Fri", "seats": "14", "language": "fr",
        "funding": "free", "price": "", "sponsor_id": ""})
    assert len(flashes) == 1 and flashes[0][0] == "status"
    assert flashes[0][1].startswith("Saved the cohort of ") and "2027" in flashes[0][1]


def test_admitting_an_application_flashes_the_decision(site, base):
    molenbeek = signed_in(site, manager("molenbeek"), "molenbeek")
    application_id = base.owned["application"]["molenbeek"][0]
    assert flashes_after(molenbeek, f"/applications/{application_id}/decision", {
        "decision": "admit", "reason": ""}) == [("status", "Decision recorded.")]


def test_recording_a_certification_flashes_the_learner(app, site, base):
    learner_id = base.learner_ids["molenbeek"][1]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        name = db.session.scalar(select(Learner.full_name).where(Learner.id == learner_id))
    from core.catalogue.models import Certification
    with app.app_context():
        az500 = db.session.scalar(select(Certification.id).where(
            Certification.exam_code == "AZ-500"))
    molenbeek = signed_in(site, manager("molenbeek"), "molenbeek")
    assert flashes_after(molenbeek, f"/learners/{learner_id}/record/certifications", {
        "certification_id": str(az500), "awarded_on": "2026-11-02", "credential_url": ""}) == [
        ("status", f"Certification recorded for {name}.")]


def test_cancelling_a_registration_flashes_the_person(site, base):
    molenbeek = signed_in(site, staff("molenbeek"), "molenbeek")
    registration_id = base.owned["registration"]["molenbeek"][0]
    flashes = flashes_after(molenbeek, f"/manage/events/registrations/{registration_id}/cancel",
                            {})
    assert len(flashes) == 1 and flashes[0][0] == "status"
    assert flashes[0][1].startswith("Cancelled the registration of ")


def test_an_invoice_run_flashes_what_it_created(site, base):
    hq = signed_in(site, HQ, "hq")
    flashes = flashes_after(hq, "/invoice-runs", {"month": "2026-10"})
    assert len(flashes) == 1 and flashes[0][0] == "status"
    assert "2026-10: 2 created" in flashes[0][1]


def test_registering_for_an_event_flashes_the_event(site, base):
    event_id = base.owned["event"]["molenbeek"][0]
    flashes = flashes_after(in_english(site("molenbeek")), f"/events/{event_id}/register", {
        "full_name": "Grace Hopper", "email": "grace@example.org"})
    assert len(flashes) == 1 and flashes[0][0] == "status"
    assert flashes[0][1].startswith("You are registered for ")


def test_signing_out_flashes_and_each_flash_can_be_dismissed_without_script(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"), "molenbeek")
    response = molenbeek.post("/logout")
    html = molenbeek.get(response.headers["Location"]).get_data(as_text=True)
    # Signed out, the session (and its choice of English) is gone: Molenbeek speaks French.
    with app.test_request_context(), force_locale("fr_BE"):
        signed_out = gettext("You are signed out.")
    assert Page(html).flashes == [("status", signed_out)]
    # A labelled checkbox before the message hides it (app.css), no JavaScript needed.
    assert re.search(r'<input type="checkbox" class="flash-dismiss" id="flash-1">', html)
    assert re.search(r'<label class="flash-close" for="flash-1">', html)


def test_an_error_flash_is_an_alert(app, site, base):
    course_id = base.catalogue["course"][0]
    hq = signed_in(site, HQ, "hq")
    assert flashes_after(hq, f"/catalogue/courses/{course_id}/retire", {})[0][0] == "status"
    again = hq.post(f"/catalogue/courses/{course_id}/retire")  # already retired
    page = page_of(hq.get(again.headers["Location"]))
    assert [role for role, _text in page.flashes] == ["alert"]


# ---- error pages --------------------------------------------------------------------------------


def test_error_page_is_in_the_site_layout_with_a_way_back(site, base):
    hq = signed_in(site, HQ, "hq")
    response = hq.get("/no-such-page")
    assert response.status_code == 404
    page = page_of(response)
    assert "HQ" in page.header and "/reports/revenue" in page.nav_links
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "This page does not exist." in html
    assert re.search(r'<a class="button" href="/">Back to the home page</a>', html)


# ---- the stylesheet -----------------------------------------------------------------------------


def css_without_comments() -> str:
    return re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.S)


def test_stylesheet_uses_logical_properties_so_rtl_pages_mirror():
    physical = re.compile(
        r"(?<![\w-])(?:(?:margin|padding|border)-(?:left|right)(?:-\w+)?"  # margin-left…
        r"|border-(?:top|bottom)-(?:left|right)-radius"
        r"|left|right)\s*:"  # left: / right: (inset-inline-start/end)
        r"|text-align\s*:\s*(?:left|right)|float\s*:\s*(?:left|right)|clear\s*:\s*(?:left|right)",
        re.I)
    assert physical.findall(css_without_comments()) == []


def hex_colour(value: str) -> tuple[float, float, float]:
    value = value.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))


def contrast(foreground: str, background: str) -> float:
    def luminance(colour: str) -> float:
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                    for c in hex_colour(colour)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Text on its background: body text, muted text, links, header, buttons, badges, flash messages.
TEXT_PAIRS = [("--ink", "--bg"), ("--ink", "--card"), ("--muted", "--bg"), ("--muted", "--card"),
              ("--muted", "--neutral-soft"), ("--accent", "--card"), ("--accent", "--bg"),
              ("--accent-dark", "--accent-soft"), ("--on-header", "--header"),
              ("--on-header-muted", "--header"), ("--on-header", "--header-2"),
              ("--on-header-muted", "--header-2"), ("#fff", "--accent"), ("#fff", "--accent-dark"),
              ("#fff", "--bad"), ("--neutral", "--neutral-soft"), ("--ok", "--ok-soft"),
              ("--warn", "--warn-soft"), ("--bad", "--bad-soft"), ("--bad", "--card"),
              ("--header", "--on-header")]
# Borders of form controls and focus rings: 3:1 (WCAG 1.4.11).
UI_PAIRS = [("--line-strong", "--card"), ("--focus", "--card"), ("--focus", "--bg"),
            ("--focus-on-dark", "--header"), ("--bad", "--card")]


def test_colour_pairs_meet_wcag_aa_contrast():
    variables = dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;",
                                css_without_comments()))

    def colour(name: str) -> str:
        return variables[name] if name.startswith("--") else name

    low = [(fg, bg, round(contrast(colour(fg), colour(bg)), 2)) for fg, bg in TEXT_PAIRS
           if contrast(colour(fg), colour(bg)) < 4.5]
    low += [(fg, bg, round(contrast(colour(fg), colour(bg)), 2)) for fg, bg in UI_PAIRS
            if contrast(colour(fg), colour(bg)) < 3]
    assert low == []
