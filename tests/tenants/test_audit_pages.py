"""The audit log's pages, CSV export and API: a campus's manager reads the campus's entries only
(another campus's never appear, whatever the filters), HQ reads every campus's and the shared
data's, filters narrow the list alike everywhere, bad filters are a 422 naming the field."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.extensions import db
from tenants.learners.services import create_learner
from tenants.scoping import campus_scope
from tests.support.data import HQ, PARTNER_CONTACT, manager, staff
from tests.support.queries import count_queries

MOLENBEEK_CHANGE = "Visible Molenbeek Change"
ANTWERP_CHANGE = "Secret Antwerp Change"


def signed_in(site, email: str, host: str = "molenbeek"):
    client = site(host)
    assert client.sign_in(email).status_code == 302
    return client


def add_learner(app, base, campus: str, name: str) -> int:
    with app.app_context(), campus_scope(base.campus_ids[campus], db.session):
        email = name.lower().replace(" ", ".") + f"@{campus}.example"
        learner_id = create_learner({"full_name": name, "email": email}).id
        db.session.commit()
        return learner_id


@pytest.fixture
def changes(app, base) -> dict[str, int]:
    """One learner created at each campus (by the system): their ids."""
    return {"molenbeek": add_learner(app, base, "molenbeek", MOLENBEEK_CHANGE),
            "antwerp": add_learner(app, base, "antwerp", ANTWERP_CHANGE)}


def api_items(client, query: str = "") -> dict:
    response = client.get(f"/api/v1/audit{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def csv_rows(client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/audit.csv{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def brussels_today():
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


# ---- a campus's manager ----------------------------------------------------------------------


def test_manager_sees_only_own_campus_entries_on_the_page_the_api_and_the_export(
        app, site, base, changes):
    molenbeek = signed_in(site, manager("molenbeek"))
    page = molenbeek.get("/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert MOLENBEEK_CHANGE in html and ANTWERP_CHANGE not in html
    # No shared data: the catalogue's certifications, HQ's billing entity.
    assert "Azure Security Engineer" not in html and "Campusflow HQ SRL" not in html

    listed = api_items(molenbeek, "?per_page=100")
    assert {item["campus_id"] for item in listed["items"]} == {base.campus_ids["molenbeek"]}
    assert {item["scope"] for item in listed["items"]} == {"campus"}
    assert ANTWERP_CHANGE not in str(listed)
    rows = csv_rows(molenbeek)
    assert rows and {row["campus"] for row in rows} == {"molenbeek"}
    assert ANTWERP_CHANGE not in str(rows) and MOLENBEEK_CHANGE in str(rows)


def test_another_campus_entry_never_appears_whatever_the_filters(app, site, base, changes):
    molenbeek = signed_in(site, manager("molenbeek"))
    foreign = f"?object_type=learners&object_id={changes['antwerp']}&campus=antwerp"
    if changes["antwerp"] != changes["molenbeek"]:  # ids are per table: they may coincide
        assert api_items(molenbeek, foreign)["total"] == 0
        assert csv_rows(molenbeek, foreign) == []
    html = molenbeek.get("/audit" + foreign).get_data(as_text=True)
    assert ANTWERP_CHANGE not in html
    assert ANTWERP_CHANGE not in str(api_items(molenbeek, "?campus=antwerp&per_page=100"))


def test_hq_on_a_campus_site_reads_that_campus_only(app, site, base, changes):
    antwerp = signed_in(site, HQ, "antwerp")
    html = antwerp.get("/audit").get_data(as_text=True)
    assert ANTWERP_CHANGE in html and MOLENBEEK_CHANGE not in html
    listed = api_items(antwerp, "?per_page=100")
    assert {item["campus_id"] for item in listed["items"]} == {base.campus_ids["antwerp"]}


@pytest.mark.parametrize(("email", "host"), [(staff("molenbeek"), "molenbeek"),
                                             (PARTNER_CONTACT, "partners")])
def test_staff_and_partners_have_no_audit_log(site, base, email, host):
    client = signed_in(site, email, host)
    expected = 403 if host == "molenbeek" else 404
    assert client.get("/audit").status_code == expected
    assert client.get("/audit.csv").status_code == expected
    assert client.get("/api/v1/audit").status_code == expected


def test_anonymous_visitor_is_sent_to_sign_in(site, base):
    molenbeek = site("molenbeek")
    assert molenbeek.get("/audit").status_code == 302
    assert molenbeek.get("/api/v1/audit").status_code == 401


# ---- HQ ----------------------------------------------------------------------------------------


def test_hq_sees_every_campus_and_the_shared_data(app, site, base, changes):
    hq = signed_in(site, HQ, "hq")
    html = hq.get("/audit?per_page=100").get_data(as_text=True)
    assert MOLENBEEK_CHANGE in html and ANTWERP_CHANGE in html
    listed = api_items(hq, "?object_type=learners&per_page=100")
    assert {base.campus_ids["molenbeek"], base.campus_ids["antwerp"]} <= {
        item["campus_id"] for item in listed["items"]}
    shared = api_items(hq, "?object_type=courses")
    assert shared["total"] >= 1 and {i["scope"] for i in shared["items"]} == {"global"}


def test_hq_filters_by_campus(app, site, base, changes):
    hq = signed_in(site, HQ, "hq")
    html = hq.get("/audit?campus=antwerp").get_data(as_text=True)
    assert ANTWERP_CHANGE in html and MOLENBEEK_CHANGE not in html
    listed = api_items(hq, "?campus=antwerp&per_page=100")
    assert {item["campus_id"] for item in listed["items"]} == {base.campus_ids["antwerp"]}
    # The shared rows that name Antwerp (its users, its billing entity) come with it.
    assert {"campus", "global"} <= {item["scope"] for item in listed["items"]}
    assert any(item["object_type"] == "users" for item in listed["items"])
    rows = csv_rows(hq, "?campus=antwerp")
    assert {row["campus"] for row in rows} == {"antwerp"}


# ---- filters, pagination, export --------------------------------------------------------------


def test_filters_narrow_the_list_by_who_what_which_and_when(app, site, base, changes):
    molenbeek = signed_in(site, manager("molenbeek"))
    made = molenbeek.post("/learners/new", data={"full_name": "Filtered Person",
                                                  "email": "filtered@example.org"})
    assert made.status_code == 302
    by_manager = api_items(molenbeek, "?actor=MANAGER@molenbeek")
    assert by_manager["total"] == 1 and by_manager["items"][0]["after"]["full_name"] == \
        "Filtered Person"
    by_system = api_items(molenbeek, "?actor=system&object_type=learners&action=create")
    assert MOLENBEEK_CHANGE in str(by_system) and "Filtered Person" not in str(by_system)
    assert api_items(molenbeek, "?action=delete")["total"] == 0
    one = api_items(molenbeek, f"?object_type=learners&object_id={changes['molenbeek']}")
    assert [i["object_id"] for i in one["items"]] == [str(changes["molenbeek"])]
    today = brussels_today()
    assert api_items(molenbeek, f"?actor=manager&date_from={today}&date_to={today}")[
        "total"] == 1
    assert api_items(molenbeek, f"?date_from={today + timedelta(days=1)}")["total"] == 0
    assert api_items(molenbeek, f"?date_to={today - timedelta(days=1)}")["total"] == 0
    html = molenbeek.get("/audit?actor=manager@molenbeek").get_data(as_text=True)
    assert "Filtered Person" in html and MOLENBEEK_CHANGE not in html
    assert 'value="manager@molenbeek"' in html  # the filter stays in its field
    wildcard = api_items(molenbeek, "?actor=%25")  # LIKE wildcards are plain text
    assert wildcard["total"] == 0


@pytest.mark.parametrize(("query", "field"), [
    ("?date_from=2026-11-10&date_to=2026-11-01", "date_to"),
    ("?date_from=yesterday", "date_from"),
    ("?action=rename", "action"),
])
def test_bad_filters_are_422_with_the_field_marked(site, base, query, field):
    molenbeek = signed_in(site, manager("molenbeek"))
    api = molenbeek.get(f"/api/v1/audit{query}")
    assert api.status_code == 422 and field in api.get_json()["error"]["fields"]
    page = molenbeek.get(f"/audit{query}")
    assert page.status_code == 422
    assert f'aria-describedby="{field}-error"' in page.get_data(as_text=True)
    assert molenbeek.get(f"/audit.csv{query}").status_code == 422


def test_api_page_size_is_bounded(site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.get("/api/v1/audit?per_page=1000")
    assert response.status_code == 422 and "per_page" in response.get_json()["error"]["fields"]


def test_unknown_campus_filter_on_hq_is_422(site, base):
    hq = signed_in(site, HQ, "hq")
    api = hq.get("/api/v1/audit?campus=atlantis")
    assert api.status_code == 422 and "campus" in api.get_json()["error"]["fields"]
    page = hq.get("/audit?campus=atlantis")
    assert page.status_code == 422 and 'aria-describedby="campus-error"' in page.get_data(
        as_text=True)


def test_csv_export_respects_the_filters(app, site, base, changes):
    molenbeek = signed_in(site, manager("molenbeek"))
    molenbeek.post("/learners/new", data={"full_name": "=HYPERLINK(1)",
                                          "email": "formula@example.org"})
    everything = csv_rows(molenbeek)
    learners = csv_rows(molenbeek, "?object_type=learners&action=create")
    assert 0 < len(learners) < len(everything)
    assert {(r["object_type"], r["action"]) for r in learners} == {("learners", "create")}
    mine = csv_rows(molenbeek, "?actor=manager@molenbeek")
    assert len(mine) == 1 and mine[0]["actor"] == manager("molenbeek")
    assert mine[0]["changed"] == "email full_name"
    assert mine[0]["after"].startswith("{") and "HYPERLINK" in mine[0]["after"]
    assert csv_rows(molenbeek, f"?date_from={brussels_today() + timedelta(days=1)}") == []


def test_the_list_paginates_and_says_when_nothing_matches(app, site, base, changes):
    for i in range(25):
        add_learner(app, base, "molenbeek", f"Paged {i}")
    molenbeek = signed_in(site, manager("molenbeek"))
    first, second = api_items(molenbeek, "?per_page=2"), api_items(molenbeek, "?per_page=2&page=2")
    assert first["total"] == second["total"] > 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    html = molenbeek.get("/audit?object_id=no-such-object").get_data(as_text=True)
    assert "No change matches these filters." in html
    assert "Export CSV" not in html
    full = molenbeek.get("/audit").get_data(as_text=True)
    assert "Page 1 of" in full and "/audit?page=2" in full


def test_an_entry_shows_who_what_and_the_fields_before_and_after(app, site, base):
    molenbeek = signed_in(site, manager("molenbeek"))
    learner_id = base.learner_ids["molenbeek"][0]
    molenbeek.post(f"/learners/{learner_id}/edit", data={
        "full_name": "Renamed On The Page", "email": "learner0@molenbeek.example",
        "phone": "+32 2 555 01 0"})
    html = molenbeek.get(f"/audit?object_type=learners&object_id={learner_id}"
                         "&action=update").get_data(as_text=True)
    assert manager("molenbeek") in html and "Changed" in html
    assert "<dt>full_name</dt>" in html
    assert "<ins>Renamed On The Page</ins>" in html and "<del>Zinedine-Molenbeek-Marker 0" in html


# ---- query counts --------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "email"), [("molenbeek", manager("molenbeek")), ("hq", HQ)])
def test_list_query_count_does_not_grow_with_the_entries(app, site, base, host, email):
    client = signed_in(site, email, host)

    def counted() -> int:
        with app.app_context(), count_queries(db.engine) as statements:
            assert client.get("/audit").status_code == 200
        return len(statements)

    few = counted()
    for i in range(5):
        add_learner(app, base, "molenbeek", f"Counted {i}")
    assert counted() == few


def test_an_abandoned_csv_download_closes_cleanly(app, site, base, changes):
    """A client that leaves mid-download closes the stream; the campus scope it read under must
    end without an error (the connection may already be gone)."""
    molenbeek = signed_in(site, manager("molenbeek"))
    response = molenbeek.get("/audit.csv", buffered=False)
    assert response.status_code == 200
    next(iter(response.response))  # the header line, then the client goes away
    response.close()
    assert molenbeek.get("/audit?per_page=1").status_code == 200
