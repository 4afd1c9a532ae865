"""A campus's lists as CSV and XLSX: exactly the rows the list shows with its filters and search,
every page of them, this campus's only, typed cells; search narrows the page and the export
alike; the empty state says what to do next; the export reads a constant number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core.catalogue.models import Course
from core.extensions import db
from tenants.applications.models import Application
from tenants.cohorts.models import Cohort, CohortStatus, Funding
from tenants.coworking.models import MembershipPlan, PlanKind
from tenants.enrolments.models import Enrolment, EnrolmentStatus
from tenants.events.models import Event, EventRegistration
from tenants.learners.models import Learner
from tenants.scoping import campus_scope
from tests.core.test_exports import column, csv_table, signed_in, xlsx_sheet, xlsx_table
from tests.support.data import MARKERS, manager
from tests.support.queries import count_queries


def in_campus(app, base, slug: str = "molenbeek"):
    return campus_scope(base.campus_ids[slug], db.session)


def add_cohorts(app, base, count: int, price_minor: int = 0, slug: str = "molenbeek") -> None:
    with app.app_context(), in_campus(app, base, slug):
        course = db.session.scalar(select(Course).where(Course.code == "CYB-101"))
        for i in range(count):
            db.session.add(Cohort(
                course_id=course.id, starts_on=date(2028, 1, 1) + timedelta(days=i),
                ends_on=date(2028, 6, 30), schedule="Evenings", seats=10, language="nl",
                price_minor=price_minor, currency="EUR",
                funding=Funding.PAID if price_minor else Funding.FREE,
                status=CohortStatus.DRAFT))
        db.session.commit()


def count_export(app, client, path: str) -> int:
    with app.app_context(), count_queries(db.engine) as statements:
        response = client.get(path)
        assert response.status_code == 200, path
    return len(statements)


# --- cohorts ------------------------------------------------------------------------------------


def test_cohort_export_has_every_cohort_with_typed_seats_price_and_fill_rate(app, site, base):
    add_cohorts(app, base, 30, price_minor=125050)  # more than a page of 25
    client = signed_in(site, manager("molenbeek"))
    sheet = xlsx_sheet(client.get("/cohorts?format=xlsx"))
    table = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert len(table) - 1 == 31
    header = list(table[0])
    assert header[:4] == ["Code", "Course", "Starts", "Ends"]
    paid = [row for row in table[1:] if row[header.index("Price")] == Decimal("1250.5")]
    assert len(paid) == 30
    base_cohort = next(row for row in table[1:] if row[header.index("Seats")] == 12)
    assert base_cohort[header.index("Seats taken")] == 1
    assert base_cohort[header.index("Fill rate")] == 0.0833  # 1 of 12, four places
    rate = sheet.cell(row=2, column=header.index("Fill rate") + 1)
    assert rate.number_format == "0.0%"
    assert isinstance(base_cohort[header.index("Starts")], datetime)


def test_cohort_search_narrows_the_page_and_the_export(app, site, base):
    client = signed_in(site, manager("molenbeek"))
    page = client.get("/cohorts?q=CYB").get_data(as_text=True)
    assert "CYB-101" in page and 'href="/cohorts?format=xlsx&amp;q=CYB"' in page
    assert len(csv_table(client.get("/cohorts?q=cyber&format=csv"))) == 2  # title, any case
    nothing = client.get("/cohorts?q=zqxjvk").get_data(as_text=True)
    assert "No cohort matches" in nothing and "Clear the search" in nothing
    assert csv_table(client.get("/cohorts?q=zqxjvk&format=csv"))[1:] == []


def test_cohort_api_search_filters_too(site, base):
    client = signed_in(site, manager("molenbeek"))
    token = client.token(manager("molenbeek"))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cohorts?q=cyber", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/cohorts?q=zqxjvk", headers=headers).get_json()["total"] == 0


def test_cohort_export_reads_a_constant_number_of_queries(app, site, base):
    client = signed_in(site, manager("molenbeek"))
    few = count_export(app, client, "/cohorts?format=csv")
    add_cohorts(app, base, 5)
    assert count_export(app, client, "/cohorts?format=csv") == few


# --- applications -------------------------------------------------------------------------------


def test_application_search_narrows_the_page_the_export_and_the_api(app, site, base):
    client = signed_in(site, manager("molenbeek"))
    with app.app_context(), in_campus(app, base):
        cohort_id = base.owned["cohort"]["molenbeek"][-1]
        db.session.add(Application(cohort_id=cohort_id, full_name="Searchable Someone",
                                   email="searchable@example.org", motivation="Learning.",
                                   consent_given_at=datetime(2026, 11, 2, tzinfo=UTC)))
        db.session.commit()
    page = client.get("/applications?q=searchable").get_data(as_text=True)
    assert "Searchable Someone" in page and MARKERS["molenbeek"] not in page
    rows = csv_table(client.get("/applications?q=searchable&format=csv"))
    assert column(rows, "Applicant") == ["Searchable Someone"]
    everything = xlsx_table(client.get("/applications?format=xlsx"))
    assert len(everything) - 1 == 2 and MARKERS["antwerp"] not in str(everything)
    assert isinstance(column(everything, "Submitted")[0], datetime)
    headers = {"Authorization": f"Bearer {client.token(manager('molenbeek'))}"}
    assert client.get("/api/v1/applications?q=searchable",
                      headers=headers).get_json()["total"] == 1


def test_an_empty_application_search_says_what_to_do(site, base):
    client = signed_in(site, manager("molenbeek"))
    page = client.get("/applications?q=zqxjvk").get_data(as_text=True)
    assert "No application matches" in page and "Clear the search" in page


# --- enrolments ---------------------------------------------------------------------------------


def test_enrolment_export_ignores_pagination_and_types_attendance(app, site, base):
    with app.app_context(), in_campus(app, base):
        cohort_id = base.owned["cohort"]["molenbeek"][-1]
        for i in range(30):
            learner = Learner(full_name=f"Enrolled {i:02d}", email=f"enrolled{i}@m.example")
            db.session.add(learner)
            db.session.flush()
            db.session.add(Enrolment(cohort_id=cohort_id, learner_id=learner.id,
                                     status=EnrolmentStatus.ENROLLED, attendance_percent=80))
        db.session.commit()
    client = signed_in(site, manager("molenbeek"))
    assert "Page 1 of 2" in client.get("/enrolments").get_data(as_text=True)
    table = xlsx_table(client.get("/enrolments?format=xlsx&page=2"))
    assert len(table) - 1 == 31
    assert column(table, "Attendance").count(0.8) == 30
    found = csv_table(client.get("/enrolments?q=Enrolled%2007&format=csv"))
    assert column(found, "Learner") == ["Enrolled 07"] and column(found, "Attendance") == ["80%"]


def test_an_invalid_enrolment_filter_exports_nothing(site, base):
    client = signed_in(site, manager("molenbeek"))
    response = client.get("/enrolments?status=lost&format=csv")
    assert response.status_code == 422 and response.mimetype == "text/html"


# --- coworking ----------------------------------------------------------------------------------


def test_plan_search_narrows_the_page_and_the_export_with_money_as_numbers(app, site, base):
    with app.app_context(), in_campus(app, base):
        db.session.add(MembershipPlan(name="Day pass", kind=PlanKind.DAY_PASS,
                                      price_minor=1550, currency="EUR"))
        db.session.commit()
    client = signed_in(site, manager("molenbeek"))
    page = client.get("/coworking/plans?q=day").get_data(as_text=True)
    assert "Day pass" in page and "Monthly desk" not in page
    table = xlsx_table(client.get("/coworking/plans?q=day&format=xlsx"))
    assert column(table, "Name") == ["Day pass"] and column(table, "Price") == [Decimal("15.5")]
    assert column(csv_table(client.get("/coworking/plans?format=csv")), "Price") == [
        "15.50", "99.00"]
    nothing = client.get("/coworking/plans?q=zqxjvk").get_data(as_text=True)
    assert "No plan matches" in nothing


def test_membership_export_with_a_bad_filter_is_a_422(site, base):
    client = signed_in(site, manager("molenbeek"))
    assert client.get("/coworking/memberships?plan_id=abc&format=xlsx").status_code == 422
    rows = csv_table(client.get("/coworking/memberships?format=csv"))
    assert column(rows, "Member") == [f"{MARKERS['molenbeek']} member"]


# --- events -------------------------------------------------------------------------------------


def test_event_export_counts_registrations_in_constant_queries(app, site, base):
    client = signed_in(site, manager("molenbeek"))
    few = count_export(app, client, "/manage/events?format=xlsx")
    with app.app_context(), in_campus(app, base):
        for i in range(5):
            event = Event(title=f"Workshop {i}", starts_at=datetime(2027, 3, 1 + i, 18, tzinfo=UTC),
                          ends_at=datetime(2027, 3, 1 + i, 20, tzinfo=UTC), capacity=20,
                          price_minor=500, currency="EUR")
            db.session.add(event)
            db.session.flush()
            db.session.add(EventRegistration(event_id=event.id, full_name="Guest",
                                             email=f"guest{i}@example.org"))
        db.session.commit()
    assert count_export(app, client, "/manage/events?format=xlsx") == few
    table = xlsx_table(client.get("/manage/events?format=xlsx"))
    assert len(table) - 1 == 6
    assert column(table, "Registered") == [1] * 6
    # Times in the campus's timezone (Brussels, UTC+1 in February): 18:00 UTC is 19:00 there.
    assert datetime(2027, 2, 1, 19, 0) in column(table, "Starts")


def test_event_registrations_export_the_attendee_list(app, site, base):
    client = signed_in(site, manager("molenbeek"))
    event_id = base.owned["event"]["molenbeek"][-1]
    rows = csv_table(client.get(f"/manage/events/{event_id}?format=csv"))
    assert column(rows, "Name") == [f"{MARKERS['molenbeek']} guest"]
    page = client.get(f"/manage/events/{event_id}").get_data(as_text=True)
    assert f'href="/manage/events/{event_id}?format=xlsx"' in page


# --- audit --------------------------------------------------------------------------------------


def test_audit_exports_as_xlsx_with_its_machine_headers_and_the_old_csv_url_stays(app, site,
                                                                                  base):
    client = signed_in(site, manager("molenbeek"))
    assert client.post("/learners/new", data={"full_name": "Audited One",
                                              "email": "audited@example.org"}).status_code == 302
    mine = f"object_type=learners&actor={manager('molenbeek')}"
    table = xlsx_table(client.get(f"/audit?format=xlsx&{mine}"))
    assert table[0][:4] == ("recorded_at", "scope", "campus", "action")
    assert column(table, "campus") == ["molenbeek"]
    assert column(table, "action") == ["create"]
    assert isinstance(column(table, "recorded_at")[0], datetime)
    old = csv_table(client.get(f"/audit.csv?{mine}"))
    new = csv_table(client.get(f"/audit?format=csv&{mine}"))
    assert old == new and len(old) == 2


def test_the_learner_count_is_unchanged_by_exports(app, site, base):
    def learners() -> int:
        with app.app_context(), in_campus(app, base):
            return db.session.scalar(select(func.count()).select_from(Learner))

    before = learners()
    client = signed_in(site, manager("molenbeek"))
    for path in ("/learners?format=csv", "/learners?format=doc", "/cohorts?format=xlsx"):
        client.get(path)
    assert learners() == before
