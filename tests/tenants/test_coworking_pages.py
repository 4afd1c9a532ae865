"""Coworking pages on a campus site: plans (managers), memberships, coaching sessions (staff)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from billing.payments.models import Order
from core.extensions import db
from tenants.coworking.models import (
    CoachingSession,
    Membership,
    MembershipPlan,
    MembershipStatus,
    PlanKind,
)
from tenants.scoping import campus_scope
from tests.support.data import HQ, MARKERS, manager, staff
from tests.support.queries import count_queries
from tests.tenants.test_coworking import (
    add_membership,
    add_plan,
    campus_today,
    foreign,
    foreign_learner,
    load,
    own,
    rows,
    sql_engine,
    user_id,
)


def signed_in(site, email: str, campus: str = "molenbeek"):
    client = site(campus)
    assert client.sign_in(email).status_code == 302
    return client


def page_queries(engine, client, path: str) -> int:
    with count_queries(engine) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


# --- plans ----------------------------------------------------------------------------------


def test_manager_creates_a_plan_with_a_price_typed_in_euros(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    assert molenbeek.get("/coworking/plans/new").status_code == 200
    response = molenbeek.post("/coworking/plans/new",
                              data={"name": "Flex desk", "kind": "monthly", "price": "99,50"})
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        plan = db.session.scalar(select(MembershipPlan).where(MembershipPlan.name == "Flex desk"))
    assert (plan.price_minor, plan.currency, plan.kind) == (9950, "EUR", PlanKind.MONTHLY)
    listing = molenbeek.get("/coworking/plans").get_data(as_text=True)
    assert "Flex desk" in listing and "99.50" in listing.replace(",", ".")


def test_bad_plan_form_keeps_the_input_marks_the_fields_and_stores_nothing(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    before = rows(app, base, MembershipPlan)
    response = molenbeek.post("/coworking/plans/new",
                              data={"name": "Kept name", "kind": "monthly", "price": "12.345"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-describedby="price-error' in page and 'value="Kept name"' in page
    negative = molenbeek.post("/coworking/plans/new",
                              data={"name": "Kept name", "kind": "weekly", "price": "-1"})
    assert negative.status_code == 422
    assert 'id="kind-error"' in negative.get_data(as_text=True)
    assert 'id="price-error"' in negative.get_data(as_text=True)
    assert rows(app, base, MembershipPlan) == before


def test_staff_has_no_plan_or_price_pages(app, site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    plan_id = own(base, "plan")
    assert molenbeek.get("/coworking/plans").status_code == 403
    assert molenbeek.get("/coworking/plans/new").status_code == 403
    assert molenbeek.post("/coworking/plans/new", data={"name": "S", "kind": "monthly",
                                                        "price": "1"}).status_code == 403
    assert molenbeek.post(f"/coworking/plans/{plan_id}/edit",
                          data={"name": "S", "kind": "monthly", "price": "1"}).status_code == 403
    assert molenbeek.post(f"/coworking/plans/{plan_id}/deactivate").status_code == 403
    assert load(app, base, MembershipPlan, plan_id).price_minor == 9900
    memberships = molenbeek.get("/coworking/memberships").get_data(as_text=True)
    assert "/coworking/plans" not in memberships and "99.00" not in memberships


def test_manager_edits_a_plan_and_stops_selling_it_once(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    plan_id = own(base, "plan")
    form = molenbeek.get(f"/coworking/plans/{plan_id}/edit").get_data(as_text=True)
    assert 'value="99.00"' in form
    saved = molenbeek.post(f"/coworking/plans/{plan_id}/edit",
                           data={"name": "Monthly desk", "kind": "monthly", "price": "109"})
    assert saved.status_code == 302
    assert load(app, base, MembershipPlan, plan_id).price_minor == 10900
    kind = molenbeek.post(f"/coworking/plans/{plan_id}/edit",
                          data={"name": "Monthly desk", "kind": "day_pass", "price": "109"})
    assert kind.status_code == 409
    assert "already has memberships" in kind.get_data(as_text=True)
    assert molenbeek.post(f"/coworking/plans/{plan_id}/deactivate").status_code == 302
    again = molenbeek.post(f"/coworking/plans/{plan_id}/deactivate")
    assert again.status_code == 409
    assert "already inactive" in again.get_data(as_text=True)
    assert not load(app, base, MembershipPlan, plan_id).is_active


def test_another_campus_plan_page_is_404(site, base):
    molenbeek = signed_in(site, HQ)
    plan_id = foreign(base, "plan")
    assert molenbeek.get(f"/coworking/plans/{plan_id}/edit").status_code == 404
    assert molenbeek.post(f"/coworking/plans/{plan_id}/deactivate").status_code == 404


# --- memberships ----------------------------------------------------------------------------


def test_manager_sells_a_membership_to_a_learner_from_the_form(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    learner_id = base.learner_ids["molenbeek"][2]
    form = molenbeek.get("/coworking/memberships/new").get_data(as_text=True)
    assert f'value="{learner_id}"' in form and MARKERS["antwerp"] not in form
    response = molenbeek.post("/coworking/memberships/new",
                              data={"plan_id": str(own(base, "plan")),
                                    "learner_id": str(learner_id), "member_name": "",
                                    "member_email": "", "starts_on": "2026-12-01",
                                    "ends_on": ""})
    assert response.status_code == 302
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        membership = db.session.scalar(select(Membership)
                                       .where(Membership.learner_id == learner_id))
    assert membership.member_email == "learner2@molenbeek.example"
    assert membership.ends_on is None and membership.status is MembershipStatus.ACTIVE


def test_membership_form_errors_are_tied_to_fields_and_store_nothing(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    before = rows(app, base, Membership)
    response = molenbeek.post("/coworking/memberships/new",
                              data={"plan_id": str(own(base, "plan")), "learner_id": "",
                                    "member_name": "Kept Person", "member_email": "nope",
                                    "starts_on": "2026-12-10", "ends_on": "2026-12-01"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="member_email-error"' in page and 'id="ends_on-error"' in page
    assert 'aria-invalid="true"' in page and 'value="Kept Person"' in page
    cross = molenbeek.post("/coworking/memberships/new",
                           data={"plan_id": str(own(base, "plan")),
                                 "learner_id": str(foreign_learner(base)),
                                 "starts_on": "2026-12-01"})
    assert cross.status_code == 422
    assert 'id="learner_id-error"' in cross.get_data(as_text=True)
    foreign_plan = molenbeek.post("/coworking/memberships/new",
                                  data={"plan_id": str(foreign(base, "plan")),
                                        "member_name": "X", "member_email": "x@example.org",
                                        "starts_on": "2026-12-01"})
    assert foreign_plan.status_code == 422
    assert 'id="plan_id-error"' in foreign_plan.get_data(as_text=True)
    assert rows(app, base, Membership) == before


def test_membership_list_filters_searches_and_paginates(app, site, base):
    evening = add_plan(app, base, "Evening desk", PlanKind.MONTHLY)
    for i in range(30):
        add_membership(app, base, plan_id=evening, name=f"Paged {i:02d}",
                       email=f"paged{i}@example.org",
                       status=MembershipStatus.ENDED if i == 0 else MembershipStatus.ACTIVE)
    molenbeek = signed_in(site, staff("molenbeek"))
    first = molenbeek.get("/coworking/memberships").get_data(as_text=True)
    assert "Page 1 of 2" in first and MARKERS["molenbeek"] in first
    assert MARKERS["antwerp"] not in first
    second = molenbeek.get("/coworking/memberships?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    ended = molenbeek.get("/coworking/memberships?status=ended").get_data(as_text=True)
    assert "Paged 00" in ended and "Paged 01" not in ended
    by_plan = molenbeek.get(f"/coworking/memberships?plan_id={own(base, 'plan')}")
    assert MARKERS["molenbeek"] in by_plan.get_data(as_text=True)
    assert "Paged 01" not in by_plan.get_data(as_text=True)
    search = molenbeek.get("/coworking/memberships?q=paged17@").get_data(as_text=True)
    assert "Paged 17" in search and "Paged 16" not in search
    nothing = molenbeek.get("/coworking/memberships?q=nobody-at-all").get_data(as_text=True)
    assert "No membership matches these filters." in nothing
    bad = molenbeek.get("/coworking/memberships?status=paused")
    assert bad.status_code == 422 and "Some filters are invalid" in bad.get_data(as_text=True)


def test_empty_membership_list_says_what_to_do(app, site, base):
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        db.session.query(CoachingSession).delete()
        db.session.query(Order).delete()  # the base data's membership order (billing)
        db.session.query(Membership).delete()
        db.session.commit()
    page = signed_in(site, manager("molenbeek")).get("/coworking/memberships")
    assert "No membership yet." in page.get_data(as_text=True)
    assert "Sell the first one" in page.get_data(as_text=True)


def test_staff_sees_memberships_without_selling_buttons(site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    page = molenbeek.get("/coworking/memberships").get_data(as_text=True)
    membership_id = own(base, "membership")
    assert f"/coworking/memberships/{membership_id}/end" not in page
    assert "/coworking/memberships/new" not in page
    assert f"/coworking/sessions/new?membership_id={membership_id}" in page
    assert molenbeek.get("/coworking/memberships/new").status_code == 403
    assert molenbeek.post(f"/coworking/memberships/{membership_id}/cancel").status_code == 403


def test_end_and_cancel_buttons_apply_once_with_the_reason(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    membership_id = own(base, "membership")
    listing = molenbeek.get("/coworking/memberships").get_data(as_text=True)
    assert f"/coworking/memberships/{membership_id}/end" in listing
    early = molenbeek.post(f"/coworking/memberships/{membership_id}/end",
                           data={"ends_on": "2026-10-01"})
    assert early.status_code == 422
    assert load(app, base, Membership, membership_id).status is MembershipStatus.ACTIVE
    ended = molenbeek.post(f"/coworking/memberships/{membership_id}/end", data={"ends_on": ""})
    assert ended.status_code == 302
    assert "Ended the membership" in molenbeek.get("/coworking/memberships").get_data(
        as_text=True)
    assert load(app, base, Membership, membership_id).ends_on == campus_today()
    cancel = molenbeek.post(f"/coworking/memberships/{membership_id}/cancel")
    assert cancel.status_code == 409
    assert "Only an active membership can be cancelled; this one is ended." in \
        cancel.get_data(as_text=True)
    assert load(app, base, Membership, membership_id).status is MembershipStatus.ENDED


def test_membership_list_page_query_count_does_not_grow(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    engine = sql_engine(app)
    before = page_queries(engine, molenbeek, "/coworking/memberships")
    for i in range(5):
        add_membership(app, base, plan_id=add_plan(app, base, f"Plan {i}", PlanKind.MONTHLY),
                       name=f"Counted {i}", email=f"counted{i}@example.org")
    assert page_queries(engine, molenbeek, "/coworking/memberships") == before


def test_another_campus_membership_pages_are_404(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    membership_id = foreign(base, "membership")
    assert molenbeek.get(f"/coworking/memberships/{membership_id}/edit").status_code == 404
    assert molenbeek.post(f"/coworking/memberships/{membership_id}/end").status_code == 404
    assert load(app, base, Membership, membership_id,
                campus="antwerp").status is MembershipStatus.ACTIVE


# --- coaching sessions ----------------------------------------------------------------------


def test_staff_records_a_coaching_session_from_the_form(app, site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    membership_id = own(base, "membership")
    form = molenbeek.get(f"/coworking/sessions/new?membership_id={membership_id}")
    assert form.status_code == 200
    assert f'<option value="{membership_id}" selected>' in form.get_data(as_text=True)
    response = molenbeek.post("/coworking/sessions/new",
                              data={"membership_id": str(membership_id),
                                    "coach_id": str(user_id(app, staff("molenbeek"))),
                                    "held_on": "2026-11-18", "duration_minutes": "50",
                                    "notes": "LinkedIn profile"})
    assert response.status_code == 302
    listing = molenbeek.get("/coworking/sessions").get_data(as_text=True)
    assert "Saved the coaching session" in listing and "LinkedIn profile" in listing


def test_bad_session_form_is_422_with_fields_and_stores_nothing(app, site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    before = rows(app, base, CoachingSession)
    response = molenbeek.post("/coworking/sessions/new",
                              data={"membership_id": str(own(base, "membership")),
                                    "coach_id": str(user_id(app, staff("antwerp"))),
                                    "held_on": "2026-11-18", "duration_minutes": "0",
                                    "notes": "Kept notes"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="duration_minutes-error"' in page and "Kept notes" in page
    cross = molenbeek.post("/coworking/sessions/new",
                           data={"membership_id": str(own(base, "membership")),
                                 "coach_id": str(user_id(app, staff("antwerp"))),
                                 "held_on": "2026-11-18", "duration_minutes": "30"})
    assert cross.status_code == 422 and 'id="coach_id-error"' in cross.get_data(as_text=True)
    assert rows(app, base, CoachingSession) == before


def test_staff_edits_a_session(app, site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    session_id = own(base, "session")
    assert molenbeek.get(f"/coworking/sessions/{session_id}/edit").status_code == 200
    response = molenbeek.post(f"/coworking/sessions/{session_id}/edit",
                              data={"membership_id": str(own(base, "membership")),
                                    "coach_id": str(user_id(app, manager("molenbeek"))),
                                    "held_on": "2026-11-11", "duration_minutes": "75",
                                    "notes": ""})
    assert response.status_code == 302
    coaching = load(app, base, CoachingSession, session_id)
    assert (coaching.held_on, coaching.duration_minutes) == (date(2026, 11, 11), 75)
    foreign_id = foreign(base, "session")
    assert molenbeek.get(f"/coworking/sessions/{foreign_id}/edit").status_code == 404


def test_session_list_filters_and_query_count(app, site, base):
    molenbeek = signed_in(site, staff("molenbeek"))
    engine = sql_engine(app)
    before = page_queries(engine, molenbeek, "/coworking/sessions")
    with app.app_context(), campus_scope(base.campus_ids["molenbeek"], db.session):
        for i in range(5):
            db.session.add(CoachingSession(membership_id=own(base, "membership"),
                                           coach_id=user_id(app, HQ),
                                           held_on=date(2026, 11, 12 + i), duration_minutes=20,
                                           notes=f"Extra {i}"))
        db.session.commit()
    assert page_queries(engine, molenbeek, "/coworking/sessions") == before
    hq_only = molenbeek.get(f"/coworking/sessions?coach_id={user_id(app, HQ)}")
    assert hq_only.get_data(as_text=True).count("Extra ") == 5
    window = molenbeek.get("/coworking/sessions?from=2026-11-13&to=2026-11-14")
    assert window.get_data(as_text=True).count("Extra ") == 2
    backwards = molenbeek.get("/coworking/sessions?from=2026-11-14&to=2026-11-13")
    assert backwards.status_code == 422


def test_nav_shows_coworking_to_staff_and_plans_only_to_managers(site, base):
    staff_page = signed_in(site, staff("molenbeek")).get("/coworking/sessions")
    assert 'href="/coworking/memberships"' in staff_page.get_data(as_text=True)
    assert "/coworking/plans" not in staff_page.get_data(as_text=True)
    manager_page = signed_in(site, manager("molenbeek")).get("/coworking/sessions")
    assert 'href="/coworking/plans"' in manager_page.get_data(as_text=True)


def test_plan_list_page_query_count_does_not_grow(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    engine = sql_engine(app)
    before = page_queries(engine, molenbeek, "/coworking/plans")
    for i in range(5):
        add_plan(app, base, f"Counted plan {i}")
    assert page_queries(engine, molenbeek, "/coworking/plans") == before
    assert "Counted plan 4" in molenbeek.get("/coworking/plans").get_data(as_text=True)
