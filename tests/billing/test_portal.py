"""The partner portal on `partners.`: the dashboard (home page), agreements, impact, and their
JSON under `/api/v1/partner`, seen by the Microsoft and the Google contacts.

Each partner sees only its own agreements and invoices; figures are counts that match
`billing.impact` (and the agreements' own progress); no learner or applicant name or e-mail
ever appears (the programmes built here carry the campus MARKERS in every name and e-mail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from billing.agreements.models import Agreement
from billing.agreements.services import agreement_progress
from billing.impact.services import Funnel, impact_funnel
from billing.invoices.models import Invoice, InvoiceStatus
from billing.portal import views as portal_views
from billing.portal.services import (
    agreement_funnels,
    get_agreement,
    open_invoices,
)
from core.catalogue.models import Certification, Course
from core.errors import NotFound
from core.extensions import db
from core.home import _EXTENSION_KEY as HOMES
from core.money import format_money
from core.partners.models import Partner
from core.sites import SiteKind
from tenants.applications.models import Application, ApplicationStatus
from tenants.campuses.models import Campus
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.learners.models import Learner
from tenants.records.models import CertificationAward, Outcome, OutcomeKind
from tenants.scoping import all_campuses, campus_scope
from tests.support.data import (
    GOOGLE_INVOICE,
    HQ,
    INVOICES,
    MARKERS,
    OTHER_PARTNER_CONTACT,
    PARTNER_CONTACT,
    PASSWORD,
    manager,
)
from tests.support.queries import count_queries

S = ApplicationStatus
MICROSOFT_AGREEMENT = "Microsoft cybersecurity programme"
GOOGLE_AGREEMENT = "Google cloud skills programme"
# What no portal page or JSON may contain: names and e-mails of learners and applicants.
PERSONAL = (*MARKERS.values(), "@molenbeek.example", "@antwerp.example", "Proximus")


@dataclass(frozen=True)
class Programmes:
    google_agreement_id: int
    microsoft_agreement_id: int
    cohorts: dict[str, tuple[str, int]]


def _cohort(course_id: int, starts_on: date, sponsor_id: int) -> Cohort:
    cohort = Cohort(course_id=course_id, starts_on=starts_on, ends_on=date(starts_on.year, 12, 20),
                    schedule="Mon-Fri", seats=20, language="fr", price_minor=0, currency="EUR",
                    funding=Funding.SPONSORED, sponsor_id=sponsor_id, status=CohortStatus.FINISHED)
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _apply(cohort: Cohort, slug: str, *statuses: ApplicationStatus) -> None:
    for i, status in enumerate(statuses):
        db.session.add(Application(
            cohort_id=cohort.id, full_name=f"{MARKERS[slug]} applicant {cohort.id}-{i}",
            email=f"applicant{cohort.id}-{i}@{slug}.example", motivation="To work in tech.",
            consent_given_at=datetime(2026, 1, 5, tzinfo=UTC), status=status))
    db.session.flush()


def _learner(slug: str, cohort: Cohort, n: int, certifications: list[int],
             employed: bool = False) -> None:
    """A learner who completed `cohort`, holding `certifications`, maybe employed."""
    learner = Learner(full_name=f"{MARKERS[slug]} sponsored {n}",
                      email=f"sponsored{n}@{slug}.example")
    db.session.add(learner)
    db.session.flush()
    db.session.add(Enrolment(cohort_id=cohort.id, learner_id=learner.id,
                             status=EnrolmentStatus.COMPLETED, completed_on=cohort.ends_on))
    for certification_id in certifications:
        db.session.add(CertificationAward(learner_id=learner.id, certification_id=certification_id,
                                          awarded_on=date(2026, 6, 1)))
    if employed:
        db.session.add(Outcome(learner_id=learner.id, kind=OutcomeKind.EMPLOYED,
                               employer="Proximus", occurred_on=date(2026, 7, 1)))
    db.session.flush()


def build_programmes(app, base) -> Programmes:
    """Cohorts sponsored by Microsoft and Google (course CYB-101: SC-900 + AZ-500).

    Molenbeek: MS1 (Microsoft, 2026-03-02): admitted twice, submitted; learner 1 fully certified
    and employed, learner 2 SC-900 only. MS0 (Microsoft, 2025-06-02, before the agreement):
    admitted; learner 3 fully certified. G1 (Google, 2026-04-06): admitted, submitted;
    learner 4 fully certified. Antwerp: MS2 (Microsoft, 2026-02-02): admitted; learner 5 fully
    certified and employed. Google gets an agreement at Molenbeek (no track, 2026).
    """
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.code == "CYB-101"))
        both = [c.id for c in db.session.scalars(
            select(Certification).where(Certification.exam_code.in_(["SC-900", "AZ-500"])))]
        sc900 = db.session.scalar(select(Certification.id)
                                  .where(Certification.exam_code == "SC-900"))
        microsoft, google = base.partner_id, base.other_partner_id
        cohorts = {}
        with campus_scope(base.campus_ids["molenbeek"], db.session):
            ms1 = _cohort(course.id, date(2026, 3, 2), microsoft)
            _apply(ms1, "molenbeek", S.ADMITTED, S.ADMITTED, S.SUBMITTED)
            _learner("molenbeek", ms1, 1, both, employed=True)
            _learner("molenbeek", ms1, 2, [sc900])
            ms0 = _cohort(course.id, date(2025, 6, 2), microsoft)
            _apply(ms0, "molenbeek", S.ADMITTED)
            _learner("molenbeek", ms0, 3, both)
            g1 = _cohort(course.id, date(2026, 4, 6), google)
            _apply(g1, "molenbeek", S.ADMITTED, S.SUBMITTED)
            _learner("molenbeek", g1, 4, both)
            cohorts.update(MS1=("molenbeek", ms1.id), MS0=("molenbeek", ms0.id),
                           G1=("molenbeek", g1.id))
        with campus_scope(base.campus_ids["antwerp"], db.session):
            ms2 = _cohort(course.id, date(2026, 2, 2), microsoft)
            _apply(ms2, "antwerp", S.ADMITTED)
            _learner("antwerp", ms2, 5, both, employed=True)
            cohorts["MS2"] = ("antwerp", ms2.id)
        molenbeek = db.session.get(Campus, base.campus_ids["molenbeek"])
        agreement = Agreement(
            title=GOOGLE_AGREEMENT, partner_id=google, track_id=None, currency="EUR",
            starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), fixed_fee_minor=600000,
            instalments=6, per_admitted_minor=0, per_completion_minor=25000,
            per_certified_minor=0, trained_target=20, certified_target=10, campuses=[molenbeek])
        db.session.add(agreement)
        db.session.commit()
        return Programmes(agreement.id, base.catalogue["agreement"][0], cohorts)


@pytest.fixture
def programmes(app, base) -> Programmes:
    return build_programmes(app, base)


@pytest.fixture
def microsoft(site):
    portal = site("partners")
    assert portal.sign_in(PARTNER_CONTACT).status_code == 302
    return portal


@pytest.fixture
def google(site):
    portal = site("partners")
    assert portal.sign_in(OTHER_PARTNER_CONTACT).status_code == 302
    return portal


def bearer(site, email: str) -> dict:
    return {"Authorization": f"Bearer {site.token(email)}"}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def no_personal_data(body: str) -> list[str]:
    return [marker for marker in PERSONAL if marker in body]


def funnel(*values: int) -> dict[str, int]:
    return dict(zip(("applied", "admitted", "completed", "fully_certified",
                     "positive_outcome"), values, strict=True))


def row(page: str, header: str) -> list[str]:
    """The cells of the table row whose header cell is `header`."""
    match = re.search(r"<tr><th scope=\"row\">" + re.escape(header) + r"</th>(.*?)</tr>", page,
                      re.S)
    assert match, f"no row {header!r}"
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td>(.*?)</td>", match.group(1), re.S)]


# --- the home page -------------------------------------------------------------------------


def test_portal_home_registered_by_billing_replaces_the_core_placeholder(app, microsoft):
    # core registers its placeholder first; billing.portal's init_app runs later and wins.
    assert app.extensions[HOMES][SiteKind.PARTNERS] is portal_views.dashboard
    page = text_of(microsoft.get("/"))
    assert "will appear here" not in page  # the placeholder's text
    assert "<h1>Microsoft</h1>" in page
    assert "Invoices to pay" in page and "Impact of the programmes you fund" in page


def test_anonymous_visitor_of_the_portal_is_sent_to_sign_in(site):
    portal = site("partners")
    for path in ("/", "/partner/agreements", "/impact"):
        response = portal.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    for path in ("/api/v1/partner/agreements", "/api/v1/partner/impact"):
        assert portal.get(path).status_code == 401


def test_dashboard_shows_only_microsofts_open_invoices_and_agreement(microsoft, programmes):
    page = text_of(microsoft.get("/"))
    assert INVOICES["molenbeek"] in page and INVOICES["antwerp"] in page
    assert GOOGLE_INVOICE not in page
    assert MICROSOFT_AGREEMENT in page and GOOGLE_AGREEMENT not in page
    assert "2 invoices in EUR" in page
    assert format_money(200000, "EUR", "en") in page  # two invoices of 1,000.00
    assert "Campusflow Brussels SRL" in page and "Campusflow Antwerp SRL" in page
    assert "Google" not in page
    assert not no_personal_data(page)


def test_dashboard_shows_only_googles_open_invoice_and_agreement(google, programmes):
    page = text_of(google.get("/"))
    assert "<h1>Google</h1>" in page
    assert GOOGLE_INVOICE in page
    assert INVOICES["molenbeek"] not in page and INVOICES["antwerp"] not in page
    assert GOOGLE_AGREEMENT in page and MICROSOFT_AGREEMENT not in page
    assert "1 invoice in EUR" in page and format_money(100000, "EUR", "en") in page
    assert "Microsoft" not in page
    assert not no_personal_data(page)


def test_dashboard_impact_per_campus_and_track_counts_only_sponsored_cohorts(microsoft,
                                                                           programmes):
    page = text_of(microsoft.get("/"))
    header = ('<th scope="col">Campus</th><th scope="col">Cohorts</th>'
              + "".join(f'<th scope="col">{step}</th>' for step in (
                  "Applied", "Admitted", "Completed", "Fully certified", "Positive outcome")))
    assert header in re.sub(r">\s+<", "><", page)
    # Molenbeek: MS1 + MS0; Antwerp: MS2 (Google's G1 and the base's unsponsored cohorts: no).
    assert row(page, "Molenbeek") == ["2", "4", "3", "3", "2", "1"]
    assert row(page, "Antwerp") == ["1", "1", "1", "1", "1", "1"]
    assert row(page, "Cybersecurity") == ["3", "5", "4", "4", "3", "2"]
    assert not no_personal_data(page)


def test_a_partner_with_nothing_yet_sees_what_comes_next(app, site):
    from core.auth.models import Role
    from core.auth.services import create_user

    with app.app_context():
        aws = Partner(slug="aws", name="Amazon Web Services", country="LU")
        db.session.add(aws)
        db.session.flush()
        create_user("contact@aws.campusflow.test", Role.PARTNER_CONTACT, PASSWORD,
                    partner_id=aws.id)
        db.session.commit()
    portal = site("partners")
    assert portal.sign_in("contact@aws.campusflow.test").status_code == 302
    page = text_of(portal.get("/"))
    assert "Nothing to pay" in page and "No agreement yet" in page
    assert "No cohort you sponsor has started yet" in page
    assert INVOICES["molenbeek"] not in page and GOOGLE_INVOICE not in page
    assert "No agreement yet" in text_of(portal.get("/partner/agreements"))
    assert "No impact target is set for you yet" in text_of(portal.get("/impact"))


def test_invoice_links_appear_only_for_invoice_pages_the_portal_serves(app, microsoft):
    page = text_of(microsoft.get("/"))
    adapter = app.url_map.bind("partners.localhost")

    def served(path: str) -> bool:
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except HTTPException:  # no route
            return False
        return SiteKind.PARTNERS in (getattr(app.view_functions[endpoint], "site_kinds", None)
                                     or ())

    number = INVOICES["molenbeek"]
    assert ('href="/invoices"' in page) == served("/invoices")
    assert (f'href="/invoices/{number}"' in page) == served(f"/invoices/{number}")
    assert (f'href="/invoices/{number}.pdf"' in page) == served(f"/invoices/{number}.pdf")


def test_open_invoices_count_issued_partner_invoices_and_overdue_ones(app, base):
    with app.app_context():
        before_due = open_invoices(base.partner_id, date(2026, 12, 2))
        after_due = open_invoices(base.partner_id, date(2026, 12, 3))
        google = open_invoices(base.other_partner_id, date(2026, 12, 3))
    assert [(o.currency, o.count, o.due_minor, o.overdue_count) for o in before_due] == [
        ("EUR", 2, 200000, 0)]
    assert [(o.overdue_count) for o in after_due] == [2]
    assert [(o.count, o.due_minor, o.overdue_count) for o in google] == [(1, 100000, 1)]


def test_a_paid_invoice_leaves_the_amount_due(app, base, microsoft):
    from billing.invoices.services import get_invoice, mark_invoice_paid

    with app.app_context(), campus_scope(base.campus_ids["antwerp"], db.session):
        mark_invoice_paid(get_invoice(INVOICES["antwerp"]), paid_on=date(2026, 11, 20))
        db.session.commit()
    page = text_of(microsoft.get("/"))
    assert "1 invoice in EUR" in page
    assert INVOICES["antwerp"] not in page  # paid: no longer among those to pay
    with app.app_context(), all_campuses(db.session):
        statuses = dict(db.session.execute(select(Invoice.number, Invoice.status)
                                           .where(Invoice.partner_id == base.partner_id)).all())
    assert statuses[INVOICES["antwerp"]] == InvoiceStatus.PAID


# --- agreements ----------------------------------------------------------------------------


def test_microsoft_lists_its_agreement_with_terms_targets_and_progress(microsoft, programmes):
    page = text_of(microsoft.get("/partner/agreements"))
    assert MICROSOFT_AGREEMENT in page and GOOGLE_AGREEMENT not in page
    assert "Antwerp, Molenbeek" in page
    assert "Cybersecurity" in page
    assert f"{format_money(1200000, 'EUR', 'en')} per campus, in 12 monthly instalments" in page
    assert format_money(50000, "EUR", "en") in page  # per fully certified learner
    # MS1 and MS2 fall in the agreement (MS0 started before it): 3 trained, 2 fully certified.
    assert "Trained: 3 / 150 (2%)" in page
    assert "Fully certified: 2 / 60 (3%)" in page
    assert not no_personal_data(page)


def test_google_lists_only_its_own_agreement(google, programmes):
    page = text_of(google.get("/partner/agreements"))
    assert GOOGLE_AGREEMENT in page and MICROSOFT_AGREEMENT not in page
    assert "Any track" in page
    assert "Trained: 1 / 20 (5%)" in page and "Fully certified: 1 / 10 (10%)" in page


def test_agreement_page_shows_its_funnel_per_campus_and_its_invoices(microsoft, programmes):
    response = microsoft.get(f"/partner/agreements/{programmes.microsoft_agreement_id}")
    assert response.status_code == 200
    page = text_of(response)
    assert row(page, "Molenbeek") == ["1", "3", "2", "2", "1", "1"]
    assert row(page, "Antwerp") == ["1", "1", "1", "1", "1", "1"]
    assert INVOICES["molenbeek"] in page and INVOICES["antwerp"] in page
    assert GOOGLE_INVOICE not in page
    assert not no_personal_data(page)


@pytest.mark.parametrize("who", ["microsoft", "google"])
def test_another_partners_agreement_is_not_found(request, site, programmes, who):
    email, foreign = {
        "microsoft": (PARTNER_CONTACT, programmes.google_agreement_id),
        "google": (OTHER_PARTNER_CONTACT, programmes.microsoft_agreement_id),
    }[who]
    portal = request.getfixturevalue(who)
    page = portal.get(f"/partner/agreements/{foreign}")
    assert page.status_code == 404
    assert MICROSOFT_AGREEMENT not in text_of(page) and GOOGLE_AGREEMENT not in text_of(page)
    api = site("partners")
    response = api.get(f"/api/v1/partner/agreements/{foreign}", headers=bearer(api, email))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_get_agreement_never_returns_another_partners_row(app, base, programmes):
    with app.app_context():
        assert get_agreement(base.partner_id, programmes.microsoft_agreement_id).title == \
            MICROSOFT_AGREEMENT
        for partner_id, foreign in ((base.partner_id, programmes.google_agreement_id),
                                    (base.other_partner_id, programmes.microsoft_agreement_id)):
            with pytest.raises(NotFound):
                get_agreement(partner_id, foreign)
        # Asking for another partner's ids gives no funnel either.
        assert agreement_funnels(base.partner_id, [programmes.google_agreement_id]) == {
            programmes.google_agreement_id: Funnel()}


# --- JSON ----------------------------------------------------------------------------------


def test_agreements_json_matches_the_agreements_own_progress(app, site, base, programmes):
    portal = site("partners")
    response = portal.get("/api/v1/partner/agreements", headers=bearer(portal, PARTNER_CONTACT))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1 and body["page"] == 1
    [item] = body["items"]
    assert item["id"] == programmes.microsoft_agreement_id
    assert item["title"] == MICROSOFT_AGREEMENT
    assert item["track"] == {"slug": "cybersecurity", "name": "Cybersecurity"}
    assert [c["slug"] for c in item["campuses"]] == ["antwerp", "molenbeek"]
    assert item["terms"] == {"fixed_fee_minor": 1200000, "instalments": 12,
                             "per_admitted_minor": 10000, "per_completion_minor": 30000,
                             "per_certified_minor": 50000}
    assert item["targets"] == {"trained_target": 150, "certified_target": 60}
    assert item["funnel"] == funnel(4, 3, 3, 2, 2)
    assert item["progress"] == {"trained": 2, "fully_certified": 3}
    assert item["starts_on"] == "2026-01-01" and item["ends_on"] == "2027-12-31"
    with app.app_context():
        agreement = db.session.get(Agreement, programmes.microsoft_agreement_id)
        assert item["funnel"] == agreement_progress(agreement).funnel.as_dict()
        scoped = impact_funnel(base.partner_id, agreement.track_id,
                               [c.id for c in agreement.campuses],
                               starts_from=agreement.starts_on, starts_until=agreement.ends_on)
        assert item["funnel"] == scoped.funnel.as_dict()
    assert not no_personal_data(response.get_data(as_text=True))


def test_google_agreements_json_holds_only_googles(site, programmes):
    portal = site("partners")
    headers = bearer(portal, OTHER_PARTNER_CONTACT)
    body = portal.get("/api/v1/partner/agreements", headers=headers).get_json()
    assert [item["title"] for item in body["items"]] == [GOOGLE_AGREEMENT]
    assert body["items"][0]["funnel"] == funnel(2, 1, 1, 1, 0)
    one = portal.get(f"/api/v1/partner/agreements/{programmes.google_agreement_id}",
                     headers=headers)
    assert one.status_code == 200 and one.get_json()["track"] is None


def test_agreements_json_search_narrows_by_title_within_the_partner(site, programmes):
    portal = site("partners")
    headers = bearer(portal, PARTNER_CONTACT)
    word = MICROSOFT_AGREEMENT.split()[0]
    found = portal.get("/api/v1/partner/agreements", query_string={"q": word},
                       headers=headers).get_json()
    assert [item["title"] for item in found["items"]] == [MICROSOFT_AGREEMENT]
    # Another partner's title finds nothing here, and an unmatched word finds nothing at all.
    for q in (GOOGLE_AGREEMENT, "no-such-programme"):
        body = portal.get("/api/v1/partner/agreements", query_string={"q": q},
                          headers=headers).get_json()
        assert body["items"] == [] and body["total"] == 0


def test_impact_json_matches_billing_impact_for_the_partner(app, site, base, programmes):
    portal = site("partners")
    for email, partner_id, expected in (
        (PARTNER_CONTACT, base.partner_id, funnel(5, 4, 4, 3, 2)),
        (OTHER_PARTNER_CONTACT, base.other_partner_id, funnel(2, 1, 1, 1, 0)),
    ):
        response = portal.get("/api/v1/partner/impact", headers=bearer(portal, email))
        assert response.status_code == 200
        body = response.get_json()
        assert body["funnel"] == expected
        with app.app_context():
            by_campus = impact_funnel(partner_id, group_by="campus")
            by_track = impact_funnel(partner_id, group_by="track")
        assert body["funnel"] == by_campus.funnel.as_dict()
        assert [(g["key"]["campus"], g["funnel"]) for g in body["campuses"]] == [
            (g.key["campus"], g.funnel.as_dict()) for g in by_campus.groups]
        assert [(g["key"]["track"], g["funnel"]) for g in body["tracks"]] == [
            (g.key["track"], g.funnel.as_dict()) for g in by_track.groups]
        assert {g["key"].get("partner") for g in body["campuses"] + body["tracks"]} <= {None}
        assert not no_personal_data(response.get_data(as_text=True))


def test_impact_targets_are_the_partners_own(site, base, programmes):
    portal = site("partners")
    ms = portal.get("/api/v1/partner/impact", headers=bearer(portal, PARTNER_CONTACT)).get_json()
    [target] = ms["targets"]
    assert target["label"] == "Microsoft cybersecurity" and target["partner"] == "microsoft"
    assert (target["trained"], target["fully_certified"]) == (4, 3)
    assert target["progress"]["trained"] == 2 and target["progress"]["fully_certified"] == 5
    google = portal.get("/api/v1/partner/impact",
                        headers=bearer(portal, OTHER_PARTNER_CONTACT)).get_json()
    assert google["targets"] == []


def test_impact_page_shows_the_funnel_and_targets_without_names(microsoft, google, programmes):
    page = text_of(microsoft.get("/impact"))
    assert '<svg role="img"' in page
    assert ("Applied: 5; Admitted: 4 (80%); Completed: 4 (100%); Fully certified: 3 (75%); "
            "Positive outcome: 2 (50%)") in page
    assert "Microsoft cybersecurity" in page and "Fully certified: 3 / 60 (5%)" in page
    assert not no_personal_data(page)
    other = text_of(google.get("/impact"))
    assert "Applied: 2; Admitted: 1 (50%)" in other
    assert "Microsoft" not in other
    assert not no_personal_data(other)


def test_portal_json_is_refused_to_everyone_but_partner_contacts(site):
    for subdomain, email in (("hq", HQ), ("molenbeek", manager("molenbeek"))):
        own = site(subdomain)
        headers = bearer(own, email)
        for path in ("/api/v1/partner/agreements", "/api/v1/partner/impact"):
            assert own.get(path, headers=headers).status_code == 404  # not on that site
            assert site("partners").get(path, headers=headers).status_code == 401


def test_portal_routes_are_the_ones_matched_on_their_paths(app):
    """No other feature's rule shadows a portal path (the first matching rule wins)."""
    adapter = app.url_map.bind("partners.localhost")
    for path, endpoint in (("/partner/agreements", "portal.agreements"),
                           ("/partner/agreements/1", "portal.agreement"),
                           ("/impact", "portal.impact"),
                           ("/api/v1/partner/agreements", "portal_api.list_agreements"),
                           ("/api/v1/partner/agreements/1", "portal_api.show_agreement"),
                           ("/api/v1/partner/impact", "portal_api.impact")):
        assert adapter.match(path, method="GET")[0] == endpoint


def test_portal_navigation_links_agreements_and_impact(microsoft):
    page = text_of(microsoft.get("/"))
    assert 'href="/partner/agreements"' in page and 'href="/impact"' in page


# --- query counts --------------------------------------------------------------------------


def _more_agreements(app, base, n: int) -> None:
    with app.app_context():
        campuses = list(db.session.scalars(select(Campus)))
        for i in range(n):
            db.session.add(Agreement(
                title=f"Extra programme {i}", partner_id=base.partner_id, currency="EUR",
                starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31), fixed_fee_minor=0,
                instalments=1, per_admitted_minor=0, per_completion_minor=0,
                per_certified_minor=0, trained_target=10, certified_target=5,
                campuses=campuses))
        db.session.commit()


def _count(app, portal, path: str, **kwargs) -> int:
    with app.app_context(), count_queries(db.engine) as statements:
        assert portal.get(path, **kwargs).status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["/", "/partner/agreements", "/impact",
                                  "/api/v1/partner/agreements", "/api/v1/partner/impact"])
def test_portal_pages_run_a_fixed_number_of_queries(app, base, site, programmes, path):
    portal = site("partners")
    kwargs = {"headers": bearer(portal, PARTNER_CONTACT)} if path.startswith("/api/") else {}
    if not kwargs:
        portal.sign_in(PARTNER_CONTACT)
    _more_agreements(app, base, 2)
    few = _count(app, portal, path, **kwargs)
    _more_agreements(app, base, 5)
    many = _count(app, portal, path, **kwargs)
    assert many == few
