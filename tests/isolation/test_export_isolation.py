"""Exports and isolation: `?format=csv|xlsx` on every list that exports (the views marked
`@exportable`, found from the URL map, so a new export is covered without editing this file).

The route matrix (test_route_matrix.py) requests each URL without a query string, and searches an
XLSX body byte-wise, which a zipped workbook defeats; here every export is opened (CSV parsed,
XLSX read cell by cell with openpyxl) before looking for markers:

* on a campus site, neither its manager nor HQ ever gets another campus's learners, whatever the
  list;
* another campus's object in the URL (an event's registrations) is a 404, never a file;
* someone who may not read the list there (staff on money lists, another campus's manager, a
  partner, an anonymous visitor) gets no file at all;
* on the partner portal, a partner contact never exports the other partner's invoices.
"""

from __future__ import annotations

import pytest
from flask import Flask

from core.exports import FORMATS, MIMETYPES
from core.sites import SiteKind
from tests.core.test_exports import exported_text, signed_in, url_values
from tests.support.data import (
    GOOGLE_INVOICE,
    HQ,
    INVOICES,
    MARKERS,
    OTHER_PARTNER_CONTACT,
    PARTNER_CONTACT,
    manager,
    staff,
)

OTHER = {"molenbeek": "antwerp", "antwerp": "molenbeek"}


def exporting_rules(app: Flask, kind: SiteKind):
    """The rules of the marked lists that live on `kind` sites."""
    return [rule for rule in app.url_map.iter_rules()
            if getattr(app.view_functions[rule.endpoint], "table_export", False)
            and kind in app.view_functions[rule.endpoint].site_kinds]


def build(app: Flask, rule, values: dict) -> str:
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def campus_values(base, rule, slug: str) -> dict:
    """URL values of `slug`'s objects (url_values gives molenbeek's)."""
    values = url_values(base, rule.arguments)
    for name in rule.arguments:
        kind = name.removesuffix("_id")
        if kind in base.owned:
            values[name] = base.owned[kind][slug][-1]
    return values


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("host", "who"), [("molenbeek", "manager"), ("antwerp", "manager"),
                                           ("molenbeek", "hq")])
def test_a_campus_export_never_holds_another_campus_learners(app, site, base, host, who, fmt):
    client = signed_in(site, manager(host) if who == "manager" else HQ, host)
    foreign = MARKERS[OTHER[host]]
    problems, exported = [], 0
    for rule in exporting_rules(app, SiteKind.CAMPUS):
        path = build(app, rule, {**campus_values(base, rule, host), "format": fmt})
        response = client.get(path)
        if response.status_code in (403, 404):
            continue  # a list this role does not read
        if response.status_code != 200 or response.mimetype != MIMETYPES[fmt]:
            problems.append(f"{path}: {response.status_code} {response.mimetype}")
            continue
        exported += 1
        if foreign in exported_text(response):
            problems.append(f"{path}: shows {foreign!r}")
    assert problems == []
    assert exported >= 10


@pytest.mark.parametrize("fmt", FORMATS)
def test_another_campus_object_in_an_export_url_is_a_404(app, site, base, fmt):
    client = signed_in(site, manager("molenbeek"))
    rules = [rule for rule in exporting_rules(app, SiteKind.CAMPUS)
             if any(name.removesuffix("_id") in base.owned for name in rule.arguments)]
    assert rules, "no export takes a campus object in its URL"
    for rule in rules:
        path = build(app, rule, {**campus_values(base, rule, "antwerp"), "format": fmt})
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize(("host", "email"), [
    ("molenbeek", None),  # anonymous
    ("molenbeek", manager("antwerp")),  # refused at sign-in: not signed in there
    ("molenbeek", PARTNER_CONTACT),
    ("hq", manager("molenbeek")),
    ("partners", HQ),
])
def test_nobody_outside_the_site_gets_a_file(app, site, base, host, email):
    client = site(host)
    if email:
        client.sign_in(email)
    kind = {"molenbeek": SiteKind.CAMPUS, "hq": SiteKind.HQ, "partners": SiteKind.PARTNERS}[host]
    for rule in exporting_rules(app, kind):
        for fmt in FORMATS:
            path = build(app, rule, {**url_values(base, rule.arguments), "format": fmt})
            response = client.get(path)
            assert response.status_code in (302, 401, 403, 404), (path, response.status_code)
            assert response.mimetype not in MIMETYPES.values(), path


def test_staff_get_no_money_list_as_a_file(app, site, base):
    client = signed_in(site, staff("molenbeek"))
    money = {"invoices.index", "payments.orders", "revenue.entries", "royalties.index",
             "coworking.plans", "audit.index"}
    for rule in exporting_rules(app, SiteKind.CAMPUS):
        if rule.endpoint not in money:
            continue
        response = client.get(build(app, rule, {**url_values(base, rule.arguments),
                                                "format": "csv"}))
        assert response.status_code == 403, rule.endpoint


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("email", "own", "other"), [
    (PARTNER_CONTACT, tuple(INVOICES.values()), (GOOGLE_INVOICE,)),
    (OTHER_PARTNER_CONTACT, (GOOGLE_INVOICE,), tuple(INVOICES.values())),
])
def test_a_partner_exports_its_own_invoices_only(app, site, base, fmt, email, own, other):
    client = signed_in(site, email, "partners")
    text = exported_text(client.get(f"/invoices?format={fmt}"))
    assert all(number in text for number in own)
    assert not any(number in text for number in other)
    assert not any(marker in text for marker in MARKERS.values())
