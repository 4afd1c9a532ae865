"""Coworking through the JSON API: plans and prices, memberships, coaching sessions.

The helpers at the top are shared with `test_coworking_pages.py`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.auth.models import User
from core.extensions import db
from tenants.coworking.models import (
    CoachingSession,
    Membership,
    MembershipPlan,
    MembershipStatus,
    PlanKind,
)
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries

# --- shared helpers -------------------------------------------------------------------------


def campus_today() -> date:
    """Today at the base campuses (both in Europe/Brussels)."""
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


def bearer(site, email: str) -> dict:
    return {"Authorization": f"Bearer {site.token(email)}"}


def own(base, kind: str, campus: str = "molenbeek") -> int:
    return base.owned[kind][campus][-1]


def foreign(base, kind: str, campus: str = "antwerp", other: str = "molenbeek") -> int:
    """An id of `kind` owned by `campus` that `other` does not also use."""
    ids = [i for i in base.owned[kind][campus] if i not in base.owned[kind][other]]
    assert ids
    return ids[-1]


def foreign_learner(base, campus: str = "antwerp", other: str = "molenbeek") -> int:
    ids = [i for i in base.learner_ids[campus] if i not in base.learner_ids[other]]
    assert ids
    return ids[0]


def rows(app, base, model, *where, campus: str = "molenbeek") -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def load(app, base, model, row_id: int, campus: str = "molenbeek"):
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        row = db.session.get(model, (base.campus_ids[campus], row_id))
        db.session.expunge_all()
        return row


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def add_plan(app, base, name: str = "Day desk", kind: PlanKind = PlanKind.DAY_PASS,
             price_minor: int = 1500, campus: str = "molenbeek", active: bool = True) -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        plan = MembershipPlan(name=name, kind=kind, price_minor=price_minor, currency="EUR",
                              is_active=active)
        db.session.add(plan)
        db.session.commit()
        return plan.id


def add_membership(app, base, *, plan_id: int | None = None, name: str = "Outside Olga",
                   email: str = "olga@example.org", starts_on: date | None = None,
                   ends_on: date | None = None,
                   status: MembershipStatus = MembershipStatus.ACTIVE,
                   campus: str = "molenbeek") -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        membership = Membership(plan_id=plan_id or own(base, "plan", campus), member_name=name,
                                member_email=email,
                                starts_on=starts_on or campus_today() - timedelta(days=30),
                                ends_on=ends_on, status=status)
        db.session.add(membership)
        db.session.commit()
        return membership.id


def error_of(response) -> dict:
    return response.get_json()["error"]


def measure(engine, call) -> int:
    with count_queries(engine) as statements:
        response = call()
    assert response.status_code == 200, response.status_code
    return len(statements)


def sql_engine(app):
    with app.app_context():
        return db.engine


# --- plans ----------------------------------------------------------------------------------


def test_manager_creates_a_plan_priced_in_the_campus_currency(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    response = molenbeek.post("/api/v1/membership-plans", headers=auth,
                              json={"name": "  Hot   desk ", "kind": "monthly",
                                    "price_minor": 12900})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Hot desk" and body["currency"] == "EUR" and body["is_active"]
    assert load(app, base, MembershipPlan, body["id"]).price_minor == 12900


def test_a_currency_in_the_input_is_refused_not_used(app, site, base):
    molenbeek = site("molenbeek")
    before = rows(app, base, MembershipPlan)
    response = molenbeek.post("/api/v1/membership-plans",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"name": "Dollar desk", "kind": "monthly",
                                    "price_minor": 100, "currency": "USD"})
    assert response.status_code == 422
    assert "currency" in error_of(response)["fields"]
    assert rows(app, base, MembershipPlan) == before


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": "", "kind": "monthly", "price_minor": 100}, "name"),
    ({"name": "   ", "kind": "monthly", "price_minor": 100}, "name"),
    ({"name": "X", "kind": "weekly", "price_minor": 100}, "kind"),
    ({"name": "X", "kind": "monthly", "price_minor": -1}, "price_minor"),
    ({"name": "X", "kind": "monthly", "price_minor": 12.5}, "price_minor"),
    ({"name": "X", "kind": "monthly", "price_minor": "100"}, "price_minor"),
    ({"name": "X", "kind": "monthly"}, "price_minor"),
])
def test_bad_plan_input_is_422_with_the_field_and_stores_nothing(app, site, base, payload, field):
    molenbeek = site("molenbeek")
    before = rows(app, base, MembershipPlan)
    response = molenbeek.post("/api/v1/membership-plans",
                              headers=bearer(molenbeek, manager("molenbeek")), json=payload)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert rows(app, base, MembershipPlan) == before


def test_staff_cannot_see_or_set_plans_and_prices(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    plan_id = own(base, "plan")
    before = rows(app, base, MembershipPlan)
    assert molenbeek.get("/api/v1/membership-plans", headers=auth).status_code == 403
    created = molenbeek.post("/api/v1/membership-plans", headers=auth,
                             json={"name": "Staff deal", "kind": "monthly", "price_minor": 1})
    assert created.status_code == 403
    changed = molenbeek.patch(f"/api/v1/membership-plans/{plan_id}", headers=auth,
                              json={"price_minor": 1})
    assert changed.status_code == 403
    assert molenbeek.post(f"/api/v1/membership-plans/{plan_id}/deactivate",
                          headers=auth).status_code == 403
    assert rows(app, base, MembershipPlan) == before
    plan = load(app, base, MembershipPlan, plan_id)
    assert plan.price_minor == 9900 and plan.is_active


def test_plan_deactivates_and_activates_once_each(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    plan_id = own(base, "plan")
    off = molenbeek.post(f"/api/v1/membership-plans/{plan_id}/deactivate", headers=auth)
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    again = molenbeek.post(f"/api/v1/membership-plans/{plan_id}/deactivate", headers=auth)
    assert again.status_code == 409
    assert error_of(again)["code"] == "invalid_transition"
    assert "already inactive" in error_of(again)["message"]
    on = molenbeek.post(f"/api/v1/membership-plans/{plan_id}/activate", headers=auth)
    assert on.status_code == 200 and on.get_json()["is_active"] is True
    twice = molenbeek.post(f"/api/v1/membership-plans/{plan_id}/activate", headers=auth)
    assert twice.status_code == 409 and error_of(twice)["code"] == "invalid_transition"


def test_plan_price_changes_but_its_kind_is_fixed_once_sold(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    plan_id = own(base, "plan")  # the base membership uses it
    price = molenbeek.patch(f"/api/v1/membership-plans/{plan_id}", headers=auth,
                            json={"price_minor": 10900})
    assert price.status_code == 200 and price.get_json()["price_minor"] == 10900
    kind = molenbeek.patch(f"/api/v1/membership-plans/{plan_id}", headers=auth,
                           json={"kind": "day_pass", "name": "Renamed"})
    assert kind.status_code == 409
    assert error_of(kind)["code"] == "plan_in_use" and "kind" in error_of(kind)["fields"]
    plan = load(app, base, MembershipPlan, plan_id)
    assert plan.kind is PlanKind.MONTHLY and plan.name == "Monthly desk"
    unused = add_plan(app, base, kind=PlanKind.MONTHLY)
    free = molenbeek.patch(f"/api/v1/membership-plans/{unused}", headers=auth,
                           json={"kind": "day_pass"})
    assert free.status_code == 200 and free.get_json()["kind"] == "day_pass"


def test_another_campus_plan_is_404_and_unchanged(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, HQ)
    plan_id = foreign(base, "plan")
    assert molenbeek.get(f"/api/v1/membership-plans/{plan_id}", headers=auth).status_code == 404
    assert molenbeek.patch(f"/api/v1/membership-plans/{plan_id}", headers=auth,
                           json={"price_minor": 1}).status_code == 404
    deactivated = molenbeek.post(f"/api/v1/membership-plans/{plan_id}/deactivate", headers=auth)
    assert deactivated.status_code == 404
    plan = load(app, base, MembershipPlan, plan_id, campus="antwerp")
    assert plan.price_minor == 9900 and plan.is_active


def test_plan_list_filters_by_active_and_kind(app, site, base):
    add_plan(app, base, "Old pass", active=False)
    add_plan(app, base, "Day desk")
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    active = molenbeek.get("/api/v1/membership-plans?active=true", headers=auth).get_json()
    assert {p["name"] for p in active["items"]} == {"Monthly desk", "Day desk"}
    days = molenbeek.get("/api/v1/membership-plans?kind=day_pass", headers=auth).get_json()
    assert {p["name"] for p in days["items"]} == {"Old pass", "Day desk"}
    assert molenbeek.get("/api/v1/membership-plans?kind=yearly", headers=auth).status_code == 422


# --- memberships ----------------------------------------------------------------------------


def test_membership_for_a_learner_copies_name_and_email(app, site, base):
    molenbeek = site("molenbeek")
    learner_id = base.learner_ids["molenbeek"][1]
    response = molenbeek.post("/api/v1/memberships",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"plan_id": own(base, "plan"), "learner_id": learner_id,
                                    "starts_on": "2026-12-01"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["learner_id"] == learner_id and body["status"] == "active"
    assert body["member_name"] == f"{MARKERS['molenbeek']} 1"
    assert body["member_email"] == "learner1@molenbeek.example"
    assert body["plan_name"] == "Monthly desk" and body["ends_on"] is None


def test_membership_for_an_outside_member(app, site, base):
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/memberships", headers=bearer(molenbeek, HQ),
                              json={"plan_id": own(base, "plan"), "member_name": " Ada  Lovelace",
                                    "member_email": "Ada@Example.org", "starts_on": "2026-12-01",
                                    "ends_on": "2027-05-31"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["member_name"], body["member_email"]) == ("Ada Lovelace", "ada@example.org")
    assert body["learner_id"] is None and body["ends_on"] == "2027-05-31"


def test_a_day_pass_ends_the_day_it_starts(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    day_pass = add_plan(app, base)
    member = {"plan_id": day_pass, "member_name": "Dee", "member_email": "dee@example.org"}
    ok = molenbeek.post("/api/v1/memberships", headers=auth,
                        json={**member, "starts_on": "2026-12-03"})
    assert ok.status_code == 201 and ok.get_json()["ends_on"] == "2026-12-03"
    before = rows(app, base, Membership)
    longer = molenbeek.post("/api/v1/memberships", headers=auth,
                            json={**member, "starts_on": "2026-12-03", "ends_on": "2026-12-04"})
    assert longer.status_code == 422
    assert error_of(longer)["fields"]["ends_on"] == ["A day pass ends the day it starts."]
    assert rows(app, base, Membership) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"member_name": None}, "member_name"),
    ({"member_email": None}, "member_email"),
    ({"member_email": "not-an-email"}, "member_email"),
    ({"starts_on": "2026-12-10", "ends_on": "2026-12-09"}, "ends_on"),
    ({"starts_on": "yesterday"}, "starts_on"),
    ({"plan_id": None}, "plan_id"),
    ({"plan_id": 987654321}, "plan_id"),
    ({"learner_id": "1"}, "learner_id"),
])
def test_bad_membership_input_is_422_and_stores_nothing(app, site, base, change, field):
    molenbeek = site("molenbeek")
    payload = {"plan_id": own(base, "plan"), "member_name": "Bad Input",
               "member_email": "bad@example.org", "starts_on": "2026-12-01", **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    before = rows(app, base, Membership)
    response = molenbeek.post("/api/v1/memberships",
                              headers=bearer(molenbeek, manager("molenbeek")), json=payload)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert rows(app, base, Membership) == before


def test_learner_and_outside_member_at_once_is_refused(app, site, base):
    molenbeek = site("molenbeek")
    before = rows(app, base, Membership)
    response = molenbeek.post("/api/v1/memberships",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"plan_id": own(base, "plan"),
                                    "learner_id": base.learner_ids["molenbeek"][0],
                                    "member_name": "Someone Else", "starts_on": "2026-12-01"})
    assert response.status_code == 422
    assert "member_name" in error_of(response)["fields"]
    assert rows(app, base, Membership) == before


def test_inactive_plan_cannot_be_sold(app, site, base):
    molenbeek = site("molenbeek")
    retired = add_plan(app, base, "Retired", active=False)
    before = rows(app, base, Membership)
    response = molenbeek.post("/api/v1/memberships",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json={"plan_id": retired, "member_name": "Late",
                                    "member_email": "late@example.org",
                                    "starts_on": "2026-12-01"})
    assert response.status_code == 422
    assert "no longer sold" in error_of(response)["fields"]["plan_id"][0]
    assert rows(app, base, Membership) == before


def test_another_campus_plan_or_learner_in_the_body_links_nothing(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, HQ)
    before = rows(app, base, Membership)
    plan = molenbeek.post("/api/v1/memberships", headers=auth,
                          json={"plan_id": foreign(base, "plan"), "member_name": "Cross",
                                "member_email": "cross@example.org", "starts_on": "2026-12-01"})
    assert plan.status_code == 422 and "plan_id" in error_of(plan)["fields"]
    learner = molenbeek.post("/api/v1/memberships", headers=auth,
                             json={"plan_id": own(base, "plan"),
                                   "learner_id": foreign_learner(base),
                                   "starts_on": "2026-12-01"})
    assert learner.status_code == 422 and "learner_id" in error_of(learner)["fields"]
    assert MARKERS["antwerp"] not in learner.get_data(as_text=True)
    assert rows(app, base, Membership) == before
    assert rows(app, base, Membership, campus="antwerp") == 1


def test_end_defaults_to_today_at_the_campus_and_happens_once(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    membership_id = own(base, "membership")
    ended = molenbeek.post(f"/api/v1/memberships/{membership_id}/end", headers=auth)
    assert ended.status_code == 200
    assert ended.get_json()["status"] == "ended"
    assert ended.get_json()["ends_on"] == campus_today().isoformat()
    again = molenbeek.post(f"/api/v1/memberships/{membership_id}/end", headers=auth)
    assert again.status_code == 409
    assert error_of(again)["code"] == "invalid_transition"
    assert "ended" in error_of(again)["message"]
    cancel = molenbeek.post(f"/api/v1/memberships/{membership_id}/cancel", headers=auth)
    assert cancel.status_code == 409 and error_of(cancel)["code"] == "invalid_transition"
    assert load(app, base, Membership, membership_id).status is MembershipStatus.ENDED


def test_end_on_a_given_day_not_before_the_start(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    membership_id = own(base, "membership")  # starts 2026-11-01
    early = molenbeek.post(f"/api/v1/memberships/{membership_id}/end", headers=auth,
                           json={"ends_on": "2026-10-31"})
    assert early.status_code == 422 and "ends_on" in error_of(early)["fields"]
    assert load(app, base, Membership, membership_id).status is MembershipStatus.ACTIVE
    garbage = molenbeek.post(f"/api/v1/memberships/{membership_id}/end", headers=auth,
                             data="nope", content_type="application/json")
    assert garbage.status_code == 422
    ok = molenbeek.post(f"/api/v1/memberships/{membership_id}/end", headers=auth,
                        json={"ends_on": "2026-11-30"})
    assert ok.status_code == 200 and ok.get_json()["ends_on"] == "2026-11-30"


def test_cancel_an_active_membership_once(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    membership_id = own(base, "membership")
    cancelled = molenbeek.post(f"/api/v1/memberships/{membership_id}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    end = molenbeek.post(f"/api/v1/memberships/{membership_id}/end", headers=auth)
    assert end.status_code == 409 and "cancelled" in error_of(end)["message"]
    patch = molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                            json={"ends_on": "2027-01-31"})
    assert patch.status_code == 409 and error_of(patch)["code"] == "invalid_transition"
    assert load(app, base, Membership, membership_id).ends_on is None


def test_patch_membership_changes_dates_and_plan_with_the_same_rules(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    membership_id = own(base, "membership")
    ok = molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                         json={"ends_on": "2027-04-30"})
    assert ok.status_code == 200 and ok.get_json()["ends_on"] == "2027-04-30"
    backwards = molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                                json={"starts_on": "2027-05-01"})
    assert backwards.status_code == 422 and "ends_on" in error_of(backwards)["fields"]
    cross = molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                            json={"plan_id": foreign(base, "plan")})
    assert cross.status_code == 422 and "plan_id" in error_of(cross)["fields"]
    renamed = molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                              json={"member_name": "Not The Learner"})
    assert renamed.status_code == 422 and "member_name" in error_of(renamed)["fields"]
    membership = load(app, base, Membership, membership_id)
    assert (membership.starts_on, membership.ends_on) == (date(2026, 11, 1), date(2027, 4, 30))
    assert membership.plan_id == own(base, "plan")
    day_pass = add_plan(app, base)
    moved = molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                            json={"plan_id": day_pass})
    assert moved.status_code == 200
    assert moved.get_json()["plan_name"] == "Day desk"
    assert moved.get_json()["ends_on"] == moved.get_json()["starts_on"]


def test_membership_list_filters_searches_and_pages(app, site, base):
    ended_plan = add_plan(app, base, "Evening desk", PlanKind.MONTHLY)
    add_membership(app, base, plan_id=ended_plan, name="Finished Fay", email="fay@example.org",
                   status=MembershipStatus.ENDED)
    add_membership(app, base, name="Outside Olga", email="olga@example.org")
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    everything = molenbeek.get("/api/v1/memberships", headers=auth).get_json()
    assert everything["total"] == 3
    assert MARKERS["antwerp"] not in str(everything)
    assert "price_minor" not in everything["items"][0]  # staff: no money
    ended = molenbeek.get("/api/v1/memberships?status=ended", headers=auth).get_json()
    assert [m["member_name"] for m in ended["items"]] == ["Finished Fay"]
    by_plan = molenbeek.get(f"/api/v1/memberships?plan_id={ended_plan}", headers=auth).get_json()
    assert [m["member_name"] for m in by_plan["items"]] == ["Finished Fay"]
    found = molenbeek.get("/api/v1/memberships?q=OLGA@", headers=auth).get_json()
    assert [m["member_name"] for m in found["items"]] == ["Outside Olga"]
    wildcard = molenbeek.get("/api/v1/memberships?q=%25", headers=auth).get_json()
    assert wildcard["total"] == 0
    paged = molenbeek.get("/api/v1/memberships?per_page=2&page=2", headers=auth).get_json()
    assert (paged["total"], len(paged["items"]), paged["page"]) == (3, 1, 2)
    assert molenbeek.get("/api/v1/memberships?status=paused", headers=auth).status_code == 422
    foreign_plan = molenbeek.get(f"/api/v1/memberships?plan_id={foreign(base, 'plan')}",
                                 headers=auth).get_json()
    assert foreign_plan["total"] == 0


def test_staff_reads_memberships_but_does_not_sell_them(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    membership_id = own(base, "membership")
    assert molenbeek.get(f"/api/v1/memberships/{membership_id}", headers=auth).status_code == 200
    before = rows(app, base, Membership)
    sold = molenbeek.post("/api/v1/memberships", headers=auth,
                          json={"plan_id": own(base, "plan"), "member_name": "S",
                                "member_email": "s@example.org", "starts_on": "2026-12-01"})
    assert sold.status_code == 403
    for action in ("end", "cancel"):
        response = molenbeek.post(f"/api/v1/memberships/{membership_id}/{action}", headers=auth)
        assert response.status_code == 403
    assert molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                           json={"ends_on": "2027-01-01"}).status_code == 403
    assert rows(app, base, Membership) == before
    assert load(app, base, Membership, membership_id).status is MembershipStatus.ACTIVE


def test_another_campus_membership_is_404_and_unchanged(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, HQ)
    membership_id = foreign(base, "membership")
    assert molenbeek.get(f"/api/v1/memberships/{membership_id}", headers=auth).status_code == 404
    for action in ("end", "cancel"):
        response = molenbeek.post(f"/api/v1/memberships/{membership_id}/{action}", headers=auth)
        assert response.status_code == 404
    patched = molenbeek.patch(f"/api/v1/memberships/{membership_id}", headers=auth,
                              json={"ends_on": "2027-01-01"})
    assert patched.status_code == 404
    membership = load(app, base, Membership, membership_id, campus="antwerp")
    assert membership.status is MembershipStatus.ACTIVE and membership.ends_on is None


def test_membership_list_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    engine = sql_engine(app)

    def call():
        return molenbeek.get("/api/v1/memberships?per_page=50", headers=auth)

    before = measure(engine, call)
    for i in range(5):
        plan_id = add_plan(app, base, f"Plan {i}", PlanKind.MONTHLY)
        add_membership(app, base, plan_id=plan_id, name=f"Counted {i}",
                       email=f"counted{i}@example.org")
    assert call().get_json()["total"] == 6
    assert measure(engine, call) == before


# --- coaching sessions ----------------------------------------------------------------------


def session_payload(base, **change) -> dict:
    return {"membership_id": own(base, "membership"), "held_on": "2026-11-20",
            "duration_minutes": 60, "notes": "CV review", **change}


def test_staff_records_a_session_and_is_the_coach_by_default(app, site, base):
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/coaching-sessions",
                              headers=bearer(molenbeek, staff("molenbeek")),
                              json=session_payload(base))
    assert response.status_code == 201
    body = response.get_json()
    assert body["coach_id"] == user_id(app, staff("molenbeek"))
    assert body["member_name"] == f"{MARKERS['molenbeek']} member"
    assert (body["held_on"], body["duration_minutes"], body["notes"]) == \
        ("2026-11-20", 60, "CV review")


@pytest.mark.parametrize("coach", [manager("molenbeek"), staff("molenbeek"), HQ])
def test_coach_may_be_anyone_acting_on_the_campus(app, site, base, coach):
    molenbeek = site("molenbeek")
    response = molenbeek.post("/api/v1/coaching-sessions",
                              headers=bearer(molenbeek, staff("molenbeek")),
                              json=session_payload(base, coach_id=user_id(app, coach)))
    assert response.status_code == 201
    assert response.get_json()["coach_id"] == user_id(app, coach)


@pytest.mark.parametrize("coach", [manager("antwerp"), staff("antwerp"), PARTNER_CONTACT,
                                   None])
def test_coach_from_elsewhere_is_refused(app, site, base, coach):
    molenbeek = site("molenbeek")
    coach_id = user_id(app, coach) if coach else 987654321
    before = rows(app, base, CoachingSession)
    response = molenbeek.post("/api/v1/coaching-sessions",
                              headers=bearer(molenbeek, manager("molenbeek")),
                              json=session_payload(base, coach_id=coach_id))
    assert response.status_code == 422
    assert "coach_id" in error_of(response)["fields"]
    assert rows(app, base, CoachingSession) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"duration_minutes": 481}, "duration_minutes"),
    ({"duration_minutes": 30.5}, "duration_minutes"),
    ({"held_on": "2026-10-31"}, "held_on"),  # before the membership started
    ({"held_on": None}, "held_on"),
    ({"membership_id": 987654321}, "membership_id"),
    ({"notes": "x" * 5001}, "notes"),
])
def test_bad_session_input_is_422_and_stores_nothing(app, site, base, change, field):
    molenbeek = site("molenbeek")
    payload = {k: v for k, v in session_payload(base, **change).items() if v is not None}
    before = rows(app, base, CoachingSession)
    response = molenbeek.post("/api/v1/coaching-sessions",
                              headers=bearer(molenbeek, staff("molenbeek")), json=payload)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert rows(app, base, CoachingSession) == before


def test_session_needs_a_membership_active_on_that_day(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    ended = add_membership(app, base, starts_on=date(2026, 9, 1), ends_on=date(2026, 9, 30),
                           status=MembershipStatus.ENDED)
    cancelled = add_membership(app, base, starts_on=date(2026, 9, 1),
                               status=MembershipStatus.CANCELLED, email="c@example.org")
    before = rows(app, base, CoachingSession)
    after_end = molenbeek.post("/api/v1/coaching-sessions", headers=auth,
                               json=session_payload(base, membership_id=ended,
                                                    held_on="2026-10-01"))
    assert after_end.status_code == 422
    assert "2026-09-01" in error_of(after_end)["fields"]["held_on"][0]
    was_cancelled = molenbeek.post("/api/v1/coaching-sessions", headers=auth,
                                   json=session_payload(base, membership_id=cancelled,
                                                        held_on="2026-09-10"))
    assert was_cancelled.status_code == 422
    assert "membership_id" in error_of(was_cancelled)["fields"]
    assert rows(app, base, CoachingSession) == before
    during = molenbeek.post("/api/v1/coaching-sessions", headers=auth,
                            json=session_payload(base, membership_id=ended,
                                                 held_on="2026-09-30"))
    assert during.status_code == 201  # an ended membership ran until its last day


def test_another_campus_membership_in_the_body_links_nothing(app, site, base):
    molenbeek = site("molenbeek")
    before = rows(app, base, CoachingSession)
    response = molenbeek.post("/api/v1/coaching-sessions",
                              headers=bearer(molenbeek, HQ),
                              json=session_payload(base,
                                                   membership_id=foreign(base, "membership")))
    assert response.status_code == 422
    assert "membership_id" in error_of(response)["fields"]
    assert MARKERS["antwerp"] not in response.get_data(as_text=True)
    assert rows(app, base, CoachingSession) == before
    assert rows(app, base, CoachingSession, campus="antwerp") == 1


def test_patch_session_and_foreign_session_is_404(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    session_id = own(base, "session")
    ok = molenbeek.patch(f"/api/v1/coaching-sessions/{session_id}", headers=auth,
                         json={"duration_minutes": 90, "notes": "Mock interview"})
    assert ok.status_code == 200
    assert (ok.get_json()["duration_minutes"], ok.get_json()["notes"]) == (90, "Mock interview")
    bad = molenbeek.patch(f"/api/v1/coaching-sessions/{session_id}", headers=auth,
                          json={"held_on": "2020-01-01"})
    assert bad.status_code == 422 and "held_on" in error_of(bad)["fields"]
    cross = molenbeek.patch(f"/api/v1/coaching-sessions/{session_id}", headers=auth,
                            json={"coach_id": user_id(app, staff("antwerp"))})
    assert cross.status_code == 422 and "coach_id" in error_of(cross)["fields"]
    coaching = load(app, base, CoachingSession, session_id)
    assert (coaching.held_on, coaching.duration_minutes) == (date(2026, 11, 10), 90)
    foreign_id = foreign(base, "session")
    assert molenbeek.get(f"/api/v1/coaching-sessions/{foreign_id}",
                         headers=auth).status_code == 404
    assert molenbeek.patch(f"/api/v1/coaching-sessions/{foreign_id}", headers=auth,
                           json={"duration_minutes": 5}).status_code == 404
    assert load(app, base, CoachingSession, foreign_id,
                campus="antwerp").duration_minutes == 45


def test_session_list_filters_by_membership_coach_and_dates(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    staff_id = user_id(app, staff("molenbeek"))
    other = add_membership(app, base, starts_on=date(2026, 1, 1))
    for payload in (session_payload(base, held_on="2026-11-15"),
                    session_payload(base, membership_id=other, held_on="2026-06-01")):
        assert molenbeek.post("/api/v1/coaching-sessions", headers=auth,
                              json=payload).status_code == 201
    listed = molenbeek.get("/api/v1/coaching-sessions", headers=auth).get_json()
    assert listed["total"] == 3
    assert [s["held_on"] for s in listed["items"]] == ["2026-11-15", "2026-11-10", "2026-06-01"]
    by_member = molenbeek.get(f"/api/v1/coaching-sessions?membership_id={other}",
                              headers=auth).get_json()
    assert [s["held_on"] for s in by_member["items"]] == ["2026-06-01"]
    by_coach = molenbeek.get(f"/api/v1/coaching-sessions?coach_id={staff_id}",
                             headers=auth).get_json()
    assert by_coach["total"] == 2
    window = molenbeek.get("/api/v1/coaching-sessions?from=2026-11-01&to=2026-11-12",
                           headers=auth).get_json()
    assert [s["held_on"] for s in window["items"]] == ["2026-11-10"]
    backwards = molenbeek.get("/api/v1/coaching-sessions?from=2026-11-12&to=2026-11-01",
                              headers=auth)
    assert backwards.status_code == 422 and "to" in error_of(backwards)["fields"]


def test_session_list_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, staff("molenbeek"))
    engine = sql_engine(app)

    def call():
        return molenbeek.get("/api/v1/coaching-sessions?per_page=50", headers=auth)

    before = measure(engine, call)
    coaches = [user_id(app, email) for email in (HQ, manager("molenbeek"), staff("molenbeek"))]
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for i in range(5):
            membership = Membership(plan_id=own(base, "plan"), member_name=f"Coached {i}",
                                    member_email=f"coached{i}@example.org",
                                    starts_on=date(2026, 1, 1))
            db.session.add(membership)
            db.session.flush()
            db.session.add(CoachingSession(membership_id=membership.id,
                                           coach_id=coaches[i % 3],
                                           held_on=date(2026, 2, 1 + i), duration_minutes=30))
        db.session.commit()
    assert call().get_json()["total"] == 6
    assert measure(engine, call) == before


def test_plan_list_query_count_does_not_grow_with_rows(app, site, base):
    molenbeek = site("molenbeek")
    auth = bearer(molenbeek, manager("molenbeek"))
    engine = sql_engine(app)

    def call():
        return molenbeek.get("/api/v1/membership-plans?per_page=50", headers=auth)

    before = measure(engine, call)
    for i in range(5):
        add_plan(app, base, f"Counted plan {i}")
    assert call().get_json()["total"] == 6
    assert measure(engine, call) == before
