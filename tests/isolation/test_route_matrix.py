"""The isolation matrix: every route of the URL map, for every role, on every site.

The cells are generated from `app.url_map`, so a new route is covered without anyone editing this
file. URL arguments are filled with an object of ANOTHER campus than the host's (see ARGUMENTS);
a rule with an argument missing from ARGUMENTS fails the matrix, with a message saying so.

Invariants checked in every cell (DESIGN.md, "Tenancy: isolation twice"):

* no 5xx, ever;
* no body shows the other campus's learners (MARKERS); someone who may not act on a site sees no
  campus's learners at all;
* a view that does not live on the host's kind of site is a 404 for everyone;
* someone who may not act on the site never gets a 2xx from a non-public view (302 to /login,
  401, 403 or 404), and an anonymous visitor gets exactly 302 to /login (HTML) or 401 (`/api/`);
* another campus's object id on a campus host is a 404 for everyone allowed on that site (a role
  the view refuses anyway gets its usual 403);
* the partner dimension: on the partner portal each partner contact (Microsoft, Google) asks for
  the OTHER partner's objects (PARTNER_ARGUMENTS: invoice numbers, agreements), always a 404, and
  no body shows the other partner's invoice numbers, VAT number, address or programme
  (PARTNER_MARKERS); nobody else sees any partner's there;
* after the whole matrix, no learner of the base data has been changed.

To stay fast on both backends, each test loops over its cells with one client per (role, host)
and collects failures into one readable assertion.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from billing.agreements.models import Agreement
from billing.entities.models import BillingEntity
from billing.payments.links import payment_token
from core.auth.models import Role
from core.extensions import db, limiter
from core.sites import SiteKind
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.support.data import (
    GOOGLE_INVOICE,
    HQ,
    INVOICES,
    MARKERS,
    OTHER_PARTNER_CONTACT,
    PARTNER_CONTACT,
    BaseData,
    manager,
    staff,
)

OTHER_CAMPUS = {"molenbeek": "antwerp", "antwerp": "molenbeek"}

# Host name → (subdomain passed to the `site` fixture, kind of site it must resolve to).
HOSTS: dict[str, tuple[str | None, SiteKind]] = {
    "molenbeek": ("molenbeek", SiteKind.CAMPUS),
    "antwerp": ("antwerp", SiteKind.CAMPUS),
    "hq": ("hq", SiteKind.HQ),
    "partners": ("partners", SiteKind.PARTNERS),
    "apex": (None, SiteKind.PUBLIC),
}


@dataclass(frozen=True)
class Person:
    email: str | None  # None: anonymous
    role: Role | None
    sites: frozenset[str]  # the hosts this person may act on, from DESIGN.md (the oracle)
    partner: str | None = None  # the partner a partner contact speaks for


PEOPLE: dict[str, Person] = {
    "anonymous": Person(None, None, frozenset()),
    "hq": Person(HQ, Role.HQ_ADMIN, frozenset({"hq", "molenbeek", "antwerp"})),
    **{f"{slug} manager": Person(manager(slug), Role.CAMPUS_MANAGER, frozenset({slug}))
       for slug in OTHER_CAMPUS},
    **{f"{slug} staff": Person(staff(slug), Role.CAMPUS_STAFF, frozenset({slug}))
       for slug in OTHER_CAMPUS},
    "partner contact": Person(PARTNER_CONTACT, Role.PARTNER_CONTACT, frozenset({"partners"}),
                              partner="microsoft"),
    "other partner contact": Person(OTHER_PARTNER_CONTACT, Role.PARTNER_CONTACT,
                                    frozenset({"partners"}), partner="google"),
}
OTHER_PARTNER = {"microsoft": "google", "google": "microsoft"}


def _learner_of(base: BaseData, campus: str) -> int:
    """A learner id of `campus` that no other campus also uses (ids are per table)."""
    others = {i for slug, ids in base.learner_ids.items() if slug != campus for i in ids}
    exclusive = [i for i in base.learner_ids[campus] if i not in others]
    assert exclusive, f"every learner id of {campus} is also used by another campus"
    return exclusive[-1]


# URL argument → a value belonging to the given campus. The matrix requests every rule with the
# values of a campus OTHER than the host's. Add an entry for every new URL argument.
def _owned(kind: str) -> Callable[[BaseData, str], int]:
    def value_of(base: BaseData, campus: str) -> int:
        return base.owned[kind][campus][-1]

    return value_of


def _catalogue(kind: str) -> Callable[[BaseData, str], int]:
    return lambda base, _campus: base.catalogue[kind][0]


ARGUMENTS: dict[str, Callable[[BaseData, str], object]] = {
    "learner_id": _learner_of,
    "cohort_id": _owned("cohort"),
    "application_id": _owned("application"),
    "enrolment_id": _owned("enrolment"),
    "award_id": _owned("award"),
    "outcome_id": _owned("outcome"),
    "plan_id": _owned("plan"),
    "membership_id": _owned("membership"),
    "session_id": _owned("session"),
    "event_id": _owned("event"),
    "registration_id": _owned("registration"),
    "entry_id": _owned("entry"),
    # The catalogue is global: the same value on every host.
    "course_id": _catalogue("course"),
    "track_id": _catalogue("track"),
    "certification_id": _catalogue("certification"),
    "target_id": _catalogue("target"),
    # An invoice number (campus-owned): the base data's invoice of that campus.
    "number": lambda _base, campus: INVOICES[campus],
    "agreement_id": _catalogue("agreement"),
    # A campus's billing entity (a global table: HQ's pages only).
    "entity_id": _owned("entity"),
    "order_id": _owned("order"),
    # A signed payment link (`/pay/<token>`) of that campus's order.
    "token": lambda base, campus: payment_token(base.campus_ids[campus],
                                                base.owned["order"][campus][-1],
                                                secret_key=os.environ["SECRET_KEY"]),
}
# Arguments naming a campus-owned row: on a campus host, another campus's value must be a 404.
CAMPUS_OWNED_ARGUMENTS = frozenset({
    "order_id", "token",
    "number",
    "learner_id", "cohort_id", "application_id", "enrolment_id", "award_id", "outcome_id",
    "plan_id", "membership_id", "session_id", "event_id", "registration_id", "entry_id",
})



# --- the partner dimension ------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerObjects:
    """Each base partner's own objects, and what must never show to the other partner."""

    invoices: dict[str, str]  # partner → one of its invoice numbers
    agreements: dict[str, int]  # partner → one of its agreements
    markers: dict[str, tuple[str, ...]]


# URL arguments naming a partner's object: on the partner portal a partner contact asks for the
# OTHER partner's; it must be a 404 (another partner's invoice is as absent as a missing one).
PARTNER_ARGUMENTS: dict[str, Callable[[PartnerObjects, str], object]] = {
    "number": lambda objects, partner: objects.invoices[partner],
    "agreement_id": lambda objects, partner: objects.agreements[partner],
}
GOOGLE_AGREEMENT = "Google matrix programme"


def partner_objects(app: Flask, base: BaseData) -> PartnerObjects:
    """The base partners' objects; Google gets an agreement of its own for the test."""
    with app.app_context():
        google = db.session.scalar(select(Agreement.id).where(
            Agreement.partner_id == base.other_partner_id).order_by(Agreement.id).limit(1))
        if google is None:  # titled as no code names it: a body marker
            agreement = Agreement(
                title=GOOGLE_AGREEMENT, partner_id=base.other_partner_id, currency="EUR",
                starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), fixed_fee_minor=0,
                instalments=1, per_admitted_minor=0, per_completion_minor=0,
                per_certified_minor=0)
            db.session.add(agreement)
            db.session.commit()
            google = agreement.id
        microsoft = db.session.scalar(select(Agreement.id).where(
            Agreement.partner_id == base.partner_id).order_by(Agreement.id).limit(1))
    return PartnerObjects(
        invoices={"microsoft": INVOICES["molenbeek"], "google": GOOGLE_INVOICE},
        agreements={"microsoft": microsoft, "google": google},
        markers={
            # Data only, never text of the code (the OpenAPI document names the demo's
            # "Microsoft cybersecurity programme" as an example).
            "microsoft": (*INVOICES.values(), "IE8256796U", "One Microsoft Place"),
            "google": (GOOGLE_INVOICE, "IE6388047V", "Gordon House", GOOGLE_AGREEMENT),
        })


@pytest.fixture
def partners_data(app, base) -> PartnerObjects:
    return partner_objects(app, base)


@pytest.fixture(autouse=True)
def _entity_ids(app, base) -> None:
    """Each campus's billing entity id, for `entity_id` (kept with the campus-owned ids)."""
    if "entity" in base.owned:
        return
    with app.app_context():
        rows = db.session.execute(select(BillingEntity.campus_id, BillingEntity.id)).all()
    by_campus = {campus_id: entity_id for campus_id, entity_id in rows}
    base.owned["entity"] = {slug: [by_campus[campus_id]]
                            for slug, campus_id in base.campus_ids.items()}


def partner_path(app: Flask, base: BaseData, cell: Cell, campus: str, objects: PartnerObjects,
                 partner: str) -> str:
    """`cell`'s path with `partner`'s objects for the partner arguments, `campus`'s for the
    others."""
    values = {name: (PARTNER_ARGUMENTS[name](objects, partner) if name in PARTNER_ARGUMENTS
                     else ARGUMENTS[name](base, campus)) for name in cell.rule.arguments}
    return app.url_map.bind("localhost").build(cell.rule.endpoint, values, method=cell.method)


SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})
BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})
# Minimal valid-ish input, the same for forms and JSON; it carries no campus marker.
PAYLOAD = {"full_name": "Matrix Probe", "email": "matrix-probe@isolation.example"}
ANYONE_DENIED = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Cell:
    """One rule and one of its methods, with what the view declares about itself."""

    rule: Rule
    method: str
    view: Callable

    @property
    def label(self) -> str:
        return f"{self.method} {self.rule.rule} ({self.rule.endpoint})"

    @property
    def is_api(self) -> bool:
        return self.rule.rule.startswith("/api/")

    @property
    def is_public(self) -> bool:
        return bool(getattr(self.view, "is_public", False))

    @property
    def site_kinds(self) -> frozenset[SiteKind] | None:
        return getattr(self.view, "site_kinds", None)

    @property
    def roles(self) -> frozenset[Role] | None:
        return getattr(self.view, "roles", None)

    @property
    def campus_owned(self) -> bool:
        return bool(self.rule.arguments & CAMPUS_OWNED_ARGUMENTS)

    @property
    def partner_owned(self) -> bool:
        return bool(self.rule.arguments & PARTNER_ARGUMENTS.keys())

    def lives_on(self, kind: SiteKind) -> bool:
        return self.site_kinds is None or kind in self.site_kinds

    def path(self, app: Flask, base: BaseData, campus: str) -> str:
        values = {name: ARGUMENTS[name](base, campus) for name in self.rule.arguments}
        adapter = app.url_map.bind("localhost")
        return adapter.build(self.rule.endpoint, values, method=self.method)


def cells(app: Flask) -> Iterator[Cell]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            yield Cell(rule, method, app.view_functions[rule.endpoint])


def covered_cells(app: Flask) -> list[Cell]:
    """The cells whose every argument has a value (see `missing_arguments`)."""
    return [cell for cell in cells(app) if cell.rule.arguments <= ARGUMENTS.keys()]


def missing_arguments(app: Flask) -> list[str]:
    missing = sorted({
        f"{cell.rule.rule} needs {name!r}"
        for cell in cells(app) for name in cell.rule.arguments - ARGUMENTS.keys()
    })
    if not missing:
        return []
    return [
        "Add these URL arguments to ARGUMENTS in tests/isolation/test_route_matrix.py (a value "
        "owned by the given campus), and to CAMPUS_OWNED_ARGUMENTS if they name a campus-owned "
        f"row, so that the matrix covers their routes: {missing}"
    ]


def body_text(response) -> str:
    """The body as text; binary exports (XLSX, PDF) are searched byte-wise for the markers."""
    return response.get_data().decode("utf-8", errors="replace")


def send(site, cell: Cell, path: str, headers: dict | None = None):
    """The response, or the exception the app raised (a 500 in production)."""
    kwargs: dict = {"headers": headers or {}}
    if cell.method in BODY_METHODS:
        kwargs["json" if cell.is_api else "data"] = dict(PAYLOAD)
    try:
        return site.open(cell.method, path, **kwargs)
    except Exception as error:  # reported as a 5xx cell
        return error


def session_user(site) -> str | None:
    with site.client.session_transaction(base_url=site.base_url) as session:
        return session.get("_user_id")


def sign_in(site, person: Person):
    limiter.reset()  # refused sign-ins count as failures; the matrix makes many on purpose
    return site.sign_in(person.email)


def forbidden_markers(who: str, host: str, objects: PartnerObjects) -> set[str]:
    """Markers (learners', partners') the body must not show for `who` on `host`."""
    person = PEOPLE[who]
    if host not in person.sites:
        # Someone who may not act here sees no campus's learners and no partner's invoices.
        return {*MARKERS.values(), *(m for ms in objects.markers.values() for m in ms)}
    if person.partner is not None:  # a partner contact on the portal
        return {*MARKERS.values(), *objects.markers[OTHER_PARTNER[person.partner]]}
    if host in OTHER_CAMPUS:
        return {MARKERS[OTHER_CAMPUS[host]]}
    if host == "hq":
        return set()  # HQ reads every campus on its own site, by design
    return set(MARKERS.values())


def is_redirect_to_login(response, host_site) -> bool:
    if response.status_code != 302:
        return False
    location = urlsplit(response.headers.get("Location", ""))
    return location.path == "/login" and location.netloc in ("", host_site.host)


def expected_for_anonymous(cell: Cell, kind: SiteKind) -> str:
    # core.auth.access.unauthorized: JSON (and the apex, which has no sign-in page) → 401.
    return "401" if cell.is_api or kind is SiteKind.PUBLIC else "302 to /login"


def status_problem(who: str, host: str, cell: Cell, response, host_site) -> str | None:
    """What is wrong with the status of `response`, or None."""
    person, kind = PEOPLE[who], HOSTS[host][1]
    status = response.status_code
    if not cell.lives_on(kind):
        return None if status == 404 else f"{status}, expected 404: the view is not on {kind}"
    if host not in person.sites and not cell.is_public:
        if person.email is None:
            expected = expected_for_anonymous(cell, kind)
            ok = is_redirect_to_login(response, host_site) if expected != "401" else status == 401
            return None if ok else f"{status}, expected {expected} for an anonymous visitor"
        ok = status in ANYONE_DENIED or is_redirect_to_login(response, host_site)
        return None if ok else f"{status}: may not act on {host}, expected 302/401/403/404"
    if host in person.sites and host in OTHER_CAMPUS and cell.campus_owned:
        if cell.roles is None or person.role in cell.roles:
            return None if status == 404 else f"{status}, expected 404 for another campus's id"
        return None if status in (403, 404) else f"{status}, expected 403 (role refused)"
    if host in person.sites and person.partner is not None and cell.partner_owned:
        if cell.roles is None or person.role in cell.roles:
            return None if status == 404 else f"{status}, expected 404 for another partner's"
        return None if status in (403, 404) else f"{status}, expected 403 (role refused)"
    return None


def check(who: str, host: str, cell: Cell, response, host_site, objects: PartnerObjects,
          path: str = "") -> list[str]:
    where = f"[{who} @ {host}] {cell.label}"
    if isinstance(response, Exception):
        return [f"{where}: raised {response!r} (a 500 in production)"]
    problems = []
    if response.status_code >= 500:
        problems.append(f"{where}: {response.status_code}")
    body = body_text(response)
    # A marker the request itself carries (an invoice number in the path, echoed by the sign-in
    # redirect's `next=`) proves nothing.
    problems += [f"{where}: body shows {marker!r}"
                 for marker in sorted(forbidden_markers(who, host, objects))
                 if marker in body and marker not in path]
    if problem := status_problem(who, host, cell, response, host_site):
        problems.append(f"{where}: {problem}")
    return problems


def sign_in_problems(who: str, host: str, host_site) -> list[str]:
    """Sign `who` in on `host`; a refused sign-in must leave no signed-in session."""
    person = PEOPLE[who]
    if person.email is None:
        return []
    response = sign_in(host_site, person)
    user = session_user(host_site)
    if host in person.sites:
        ok = response.status_code == 302 and user is not None
        return [] if ok else [f"[{who} @ {host}] sign-in failed: {response.status_code}"]
    refused = response.status_code == 200 or 400 <= response.status_code < 500
    if refused and user is None:
        return []
    return [f"[{who} @ {host}] sign-in was not refused: {response.status_code}, user {user}"]


def run_host(app: Flask, base: BaseData, site, who: str, host: str,
             objects: PartnerObjects) -> list[str]:
    subdomain, _kind = HOSTS[host]
    host_site = site(subdomain)
    person = PEOPLE[who]
    problems = sign_in_problems(who, host, host_site)
    foreign = OTHER_CAMPUS.get(host, "molenbeek")  # any campus is foreign to a non-campus site
    other_partner = OTHER_PARTNER.get(person.partner or "")
    for cell in covered_cells(app):
        if host == "partners" and other_partner and cell.partner_owned:
            path = partner_path(app, base, cell, foreign, objects, other_partner)
        else:
            path = cell.path(app, base, foreign)
        response = send(host_site, cell, path)
        problems += check(who, host, cell, response, host_site, objects, path)
        if host in person.sites and session_user(host_site) is None:
            sign_in(host_site, person)  # the cell signed us out (e.g. POST /logout)
    return problems


def learner_names(app: Flask, base: BaseData) -> dict[tuple[str, int], str | None]:
    names: dict[tuple[str, int], str | None] = {}
    with app.app_context():
        for campus, campus_id in base.campus_ids.items():
            with campus_scope(campus_id, db.session):
                found = {learner.id: learner.full_name for learner in db.session.scalars(
                    select(Learner).where(Learner.id.in_(base.learner_ids[campus])))}
            names.update({(campus, i): found.get(i) for i in base.learner_ids[campus]})
    return names


def report(problems: list[str], limit: int = 60) -> str:
    shown = "\n  ".join(problems[:limit])
    more = f"\n  … and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} isolation failure(s):\n  {shown}{more}"


def test_every_view_declares_the_sites_it_lives_on(app):
    undeclared = [
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint not in ("static", "core.home")
        and not getattr(view, "site_independent", False)
        and not getattr(view, "site_kinds", None)
    ]
    assert not undeclared, (
        f"These views exist on every site: {undeclared}. Decorate each with "
        "@on_sites(SiteKind...) (core/sites.py), or @site_independent for probes."
    )


def test_every_url_argument_has_a_value(app, base):
    missing = missing_arguments(app)
    assert not missing, missing[0]
    for campus, other in OTHER_CAMPUS.items():
        for name in CAMPUS_OWNED_ARGUMENTS:
            assert ARGUMENTS[name](base, campus) != ARGUMENTS[name](base, other), (name, campus)
    for campus, other in OTHER_CAMPUS.items():
        assert _learner_of(base, campus) in base.learner_ids[campus]
        assert _learner_of(base, campus) not in base.learner_ids[other]
    objects = partner_objects(app, base)
    assert PARTNER_ARGUMENTS.keys() <= ARGUMENTS.keys()  # other hosts use the campus values
    for partner, other in OTHER_PARTNER.items():
        for name, value_of in PARTNER_ARGUMENTS.items():
            assert value_of(objects, partner) != value_of(objects, other), (name, partner)
        assert not set(objects.markers[partner]) & set(objects.markers[other])


@pytest.mark.parametrize("who", list(PEOPLE))
def test_route_matrix_keeps_each_role_inside_its_sites(app, base, site, partners_data, who):
    before = learner_names(app, base)
    problems = missing_arguments(app)
    for host in HOSTS:
        problems += run_host(app, base, site, who, host, partners_data)
    after = learner_names(app, base)
    problems += [f"[{who}] learner {key} changed: {before[key]!r} → {after[key]!r}"
                 for key in before if before[key] != after[key]]
    assert not problems, report(problems)


def test_matrix_covers_every_route_and_method(app):
    covered = {(cell.rule.rule, cell.method) for cell in covered_cells(app)}
    expected = {(rule.rule, method) for rule in app.url_map.iter_rules()
                if rule.endpoint != "static"
                for method in (rule.methods or set()) - SKIPPED_METHODS}
    assert covered == expected
    assert ("/api/v1/learners/<int:learner_id>", "PATCH") in covered


def test_own_campus_ids_are_reachable_so_foreign_404s_prove_isolation(app, base, site):
    """The control: the ids the matrix uses answer 200 on their own campus, to allowed readers."""
    problems = []
    for who, person in PEOPLE.items():
        for host in sorted(person.sites & OTHER_CAMPUS.keys()):
            host_site = site(host)
            sign_in(host_site, person)
            for cell in covered_cells(app):
                readable = cell.roles is not None and person.role in cell.roles
                if cell.method != "GET" or not cell.campus_owned or not readable:
                    continue
                response = send(host_site, cell, cell.path(app, base, host))
                if getattr(response, "status_code", None) != 200:
                    problems.append(f"[{who} @ {host}] {cell.label}: {response}")
    assert not problems, report(problems)


def test_own_partner_objects_are_reachable_so_foreign_404s_prove_isolation(app, base, site,
                                                                           partners_data):
    """The control of the partner dimension: each contact reaches its OWN partner's objects
    (found: neither 404 nor refused) on every portal page that takes one."""
    problems, checked = [], 0
    for who, person in PEOPLE.items():
        if person.partner is None:
            continue
        portal = site("partners")
        sign_in(portal, person)
        for cell in covered_cells(app):
            readable = cell.roles is not None and person.role in cell.roles
            if (cell.method != "GET" or not cell.partner_owned or not readable
                    or not cell.lives_on(SiteKind.PARTNERS)):
                continue
            path = partner_path(app, base, cell, "molenbeek", partners_data, person.partner)
            response = send(portal, cell, path)
            status = getattr(response, "status_code", 500)
            checked += 1
            if status >= 500 or status in (401, 403, 404):
                problems.append(f"[{who} @ partners] {cell.label} {path}: {status}")
            elif body_text(response) and any(
                    m in body_text(response)
                    for m in partners_data.markers[OTHER_PARTNER[person.partner]]):
                problems.append(f"[{who} @ partners] {cell.label}: shows the other partner's")
    assert not problems, report(problems)
    assert checked, "no portal page takes an invoice number or an agreement"


def test_manager_is_refused_on_other_campus_site(site):
    antwerp = site("antwerp")
    response = antwerp.sign_in(manager("molenbeek"))
    assert response.status_code == 200  # the form again, with the error
    assert "no access to this site" in response.get_data(as_text=True)
    assert session_user(antwerp) is None
    learners = antwerp.get("/learners")
    assert is_redirect_to_login(learners, antwerp)


@pytest.mark.parametrize(("subdomain", "email"), [
    ("hq", manager("molenbeek")),
    ("hq", staff("antwerp")),
    ("partners", HQ),
    ("partners", manager("antwerp")),
    ("molenbeek", PARTNER_CONTACT),
    ("hq", OTHER_PARTNER_CONTACT),
])
def test_sign_in_is_refused_on_a_site_the_user_may_not_act_on(site, subdomain, email):
    foreign = site(subdomain)
    response = foreign.sign_in(email)
    assert response.status_code == 200  # the form again, with the error
    assert session_user(foreign) is None
    # The home of HQ and of the portal needs a signed-in user of that site.
    protected = "/" if subdomain in ("hq", "partners") else "/learners"
    assert is_redirect_to_login(foreign.get(protected), foreign)


def token_problem(cell: Cell, kind: SiteKind, response, anonymous_status: int) -> str | None:
    """What is wrong with a response to a request carrying another site's token, or None."""
    if isinstance(response, Exception):
        return f"raised {response!r}"
    status = response.status_code
    if cell.is_public:  # open to all: the foreign token must open nothing more than no token
        return None if status == anonymous_status else (
            f"{status}, expected {anonymous_status} as for an anonymous visitor")
    expected = 401 if cell.lives_on(kind) else 404
    return None if status == expected else f"{status}, expected {expected}"


def token_problems(app, base, site, who: str, issued_on: str, token: str) -> list[str]:
    """`token`, issued on `issued_on`, used on every other host against every API cell."""
    problems = []
    headers = {"Authorization": f"Bearer {token}"}
    for host, (subdomain, kind) in HOSTS.items():
        if host == issued_on:
            continue
        foreign = OTHER_CAMPUS.get(host, "molenbeek")
        for cell in (c for c in covered_cells(app) if c.is_api):
            path = cell.path(app, base, foreign)
            response = send(site(subdomain), cell, path, headers)
            anonymous = send(site(subdomain), cell, path) if cell.is_public else None
            anonymous_status = getattr(anonymous, "status_code", 0)
            where = f"[{who}'s {issued_on} token @ {host}] {cell.label}"
            if problem := token_problem(cell, kind, response, anonymous_status):
                problems.append(f"{where}: {problem}")
            if not isinstance(response, Exception):
                body = body_text(response)
                problems += [f"{where}: body shows {m!r}" for m in MARKERS.values() if m in body]
    return problems


def test_bearer_token_is_rejected_on_every_other_site(app, base, site):
    problems = []
    for who, person in PEOPLE.items():
        for issued_on in sorted(person.sites):
            issuer = site(HOSTS[issued_on][0])
            limiter.reset()
            token = issuer.token(person.email)
            if issued_on in OTHER_CAMPUS:  # the control: the token works where it was issued
                own = issuer.get("/api/v1/learners", headers={"Authorization": f"Bearer {token}"})
                assert own.status_code == 200, (who, issued_on, own.status_code)
            problems += token_problems(app, base, site, who, issued_on, token)
    assert not problems, report(problems)


@pytest.mark.parametrize(("signed_on", "replayed_on", "email"), [
    ("molenbeek", "antwerp", manager("molenbeek")),
    ("hq", "molenbeek", HQ),  # HQ may act on molenbeek, but not with its HQ session
    ("molenbeek", "antwerp", HQ),
])
def test_session_cookie_replayed_on_another_site_is_ignored(app, site, signed_on, replayed_on,
                                                            email):
    """Cookies are host-only; if one leaked anyway, the user loader checks the session's site."""
    cookie_domain = app.config["CAMPUSFLOW_DOMAIN"].split(":")[0]
    origin = site(signed_on)
    assert origin.sign_in(email).status_code == 302
    cookie = origin.client.get_cookie("session", domain=f"{signed_on}.{cookie_domain}")
    assert cookie is not None
    target = site(replayed_on)
    target.client.set_cookie("session", cookie.value, domain=f"{replayed_on}.{cookie_domain}")
    response = target.get("/learners")
    assert is_redirect_to_login(response, target)
    assert not any(marker in response.get_data(as_text=True) for marker in MARKERS.values())
