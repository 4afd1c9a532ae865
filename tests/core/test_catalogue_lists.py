"""HQ's catalogue lists (courses, tracks, certifications): search, pages, empty states, and CSV and
XLSX exports of exactly the listed rows."""

from __future__ import annotations

from core.catalogue.models import Track
from core.extensions import db
from tests.core.test_exports import column, csv_table, signed_in, xlsx_table
from tests.support.data import HQ


def add_tracks(app, count: int) -> None:
    with app.app_context():
        db.session.add_all([Track(slug=f"paged-{i:02d}", name=f"Paged track {i:02d}")
                            for i in range(count)])
        db.session.commit()


def test_tracks_search_paginate_and_export_every_page(app, site, base):
    add_tracks(app, 30)
    client = signed_in(site, HQ, "hq")
    first = client.get("/catalogue/tracks").get_data(as_text=True)
    assert "Page 1 of 2" in first
    table = xlsx_table(client.get("/catalogue/tracks?format=xlsx&page=2"))
    assert len(table) - 1 == 31
    assert column(table, "Active courses").count(0) == 30
    found = csv_table(client.get("/catalogue/tracks?q=paged-07&format=csv"))
    assert column(found, "Slug") == ["paged-07"]
    page = client.get("/catalogue/tracks?q=zqxjvk").get_data(as_text=True)
    assert "No track matches" in page and "Clear the search" in page


def test_course_export_lists_titles_per_language_and_certifications(site, base):
    client = signed_in(site, HQ, "hq")
    table = xlsx_table(client.get("/catalogue/courses?format=xlsx"))
    assert column(table, "Code") == ["CYB-101"]
    assert column(table, "Title (French)") == ["Analyste en cybersécurité"]
    assert column(table, "Hours") == [420]
    assert set(column(table, "Certifications")[0].split(", ")) == {"SC-900", "AZ-500"}
    assert csv_table(client.get("/catalogue/courses?format=csv&q=zqxjvk"))[1:] == []


def test_certification_export_counts_courses(site, base):
    client = signed_in(site, HQ, "hq")
    rows = csv_table(client.get("/catalogue/certifications?format=csv&q=AZ-500"))
    assert column(rows, "Exam code") == ["AZ-500"] and column(rows, "Courses") == ["1"]
