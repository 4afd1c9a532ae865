"""Schemathesis fuzzes the JSON API from its own OpenAPI document, signed in, on every kind of site.

The document (`/api/v1/openapi.json`, built by core/openapi.py from the URL map) is loaded through
the WSGI app in process, on the site's host. Every operation that lives on that kind of site is
called with generated input, as the person who works there (bearer token): the Molenbeek manager
on molenbeek, HQ on hq, a partner contact on partners. Each answer must:

* never be a 5xx;
* have a status the operation documents, and a body matching the documented schema (the success
  schema, or `{"error": {"code", "message", "fields"}}` for an error);
* for input the document calls invalid (negative generation, campus site), be a 4xx, in the same
  error shape: invalid input gets a 422 with `fields`, never a 500 or a 2xx.

Half the cases are as generated (unknown ids: 404, 422), half have the site's own objects in
their path arguments and in the id fields of their bodies (hooks), so that they pass the lookups
and reach the services and their rules. The run also checks that it proved something: the token
was never refused, and at least half the operations answered a 2xx at least once.

Bounded and deterministic: a fixed number of examples per operation, `derandomize=True`, no
example database, no shrinking (a failure is reported as found, with its operation). On SQLite
the full pass runs (about 30 s); on PostgreSQL (row-level security, the production database) a
smaller pass of the same operations (about 20 s), as RLS and driver errors show only there.

Everything the fuzzer writes stays in the test's rolled-back transaction (`db_session`): the
`untouched` fixture fingerprints every table before the test and checks it again after the
rollback.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.hooks import HookContext, HookDispatcher, HookScope
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from billing.agreements.models import Agreement
from billing.entities.models import BillingEntity
from core.auth.models import User
from core.extensions import db
from core.openapi import build_spec
from core.sites import SiteKind
from tenants.scoping import all_campuses
from tests.conftest import DOMAIN
from tests.support.data import HQ, INVOICES, PARTNER_CONTACT, BaseData, manager

OPENAPI = "/api/v1/openapi.json"

# Examples per operation and generation mode: (SQLite, PostgreSQL).
EXAMPLES = {"molenbeek": (15, 4), "hq": (8, 3), "partners": (8, 3)}
SITES: dict[str, tuple[SiteKind, str]] = {
    "molenbeek": (SiteKind.CAMPUS, manager("molenbeek")),
    "hq": (SiteKind.HQ, HQ),
    "partners": (SiteKind.PARTNERS, PARTNER_CONTACT),
}
# Negative generation (input that breaks the document) on the campus site, where most input is.
NEGATIVE_ON = frozenset({"molenbeek"})

POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]

FUZZ_SETTINGS = dict(
    derandomize=True,  # the same cases on every run and machine
    database=None,  # no example database written into the work tree
    deadline=None,  # a slow first request (PostgreSQL) is not a failure
    phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time, report as found
    suppress_health_check=list(HealthCheck),  # generated API input is large and often filtered
    print_blob=False,
)


def own_objects(app: Flask, base: BaseData, campus: str) -> dict[str, object]:
    """Argument name (in a URL or a body) → an object of `campus` or a global one, so that
    generated input also reaches the services and their rules, not only the lookups."""

    def owned(kind: str) -> int:
        return base.owned[kind][campus][0]

    with app.app_context():
        agreement = db.session.scalar(select(Agreement.id).where(
            Agreement.partner_id == base.partner_id).order_by(Agreement.id).limit(1))
        entity = db.session.scalar(select(BillingEntity.id).where(
            BillingEntity.campus_id == base.campus_ids[campus]))
        coach = db.session.scalar(select(User.id).where(User.email == manager(campus)))
    return {
        "learner_id": base.learner_ids[campus][0],
        **{f"{kind}_id": owned(kind) for kind in (
            "cohort", "application", "enrolment", "award", "outcome", "plan", "membership",
            "session", "event", "registration", "entry", "order")},
        "course_id": base.catalogue["course"][0],
        "track_id": base.catalogue["track"][0],
        "certification_id": base.catalogue["certification"][0],
        "target_id": base.catalogue["target"][0],
        "agreement_id": agreement,
        "entity_id": entity,
        "number": INVOICES[campus],
        "coach_id": coach,
        "partner_id": base.partner_id,
        "sponsor_id": base.partner_id,
        "partner": "microsoft",
        "track": "cybersecurity",
        "campus": campus,
    }


def with_own_objects(objects: dict[str, object]) -> HookDispatcher:
    """Hooks that put `objects` into the id fields a generated JSON body has."""
    hooks = HookDispatcher(scope=HookScope.TEST)

    def map_body(_context: HookContext, body: Any) -> Any:
        if isinstance(body, dict):
            return {key: objects.get(key, value) for key, value in body.items()}
        return body

    hooks.register_hook_with_name(map_body, "map_body")
    return hooks


def operations_on(app: Flask, kind: SiteKind) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every documented operation whose view lives on `kind` sites."""
    served = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "api_doc", None) is None:
            continue
        kinds = getattr(view, "site_kinds", None)
        if kinds is not None and kind not in kinds:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        served.update((method, path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return served


def table_fingerprint(app: Flask) -> dict[str, str]:
    """A digest of every row of every table (all campuses), to prove nothing was left behind."""
    digests = {}
    with app.app_context(), all_campuses(db.session):
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        db.session.rollback()
    return digests


@pytest.fixture
def untouched(app: Flask) -> Iterator[None]:
    """Asks for no `db_session`: set up before it, torn down after its rollback."""
    before = table_fingerprint(app)
    yield
    after = table_fingerprint(app)
    changed = sorted(name for name in before if before[name] != after.get(name))
    assert changed == [], f"the fuzz test left rows behind in {changed}"


def fuzz_operation(operation: Any, strategy: Any, call: Callable, checks: list,
                   examples: int) -> str | None:
    """Run `examples` generated cases of one operation; the first failure as text, or None."""

    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(case=strategy)
    def run(case: Any) -> None:
        response = call(case)
        case.validate_response(response, checks=checks)

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:  # every failure is collected, reported below
        text = str(error).strip()
        return f"{operation.label}: {type(error).__name__}: {text[:1500]}"
    return None


@pytest.mark.parametrize("subdomain", list(SITES))
def test_api_answers_every_generated_request_as_documented(untouched, app, base, site,
                                                           subdomain):
    kind, email = SITES[subdomain]
    client = site(subdomain)
    config = schemathesis.Config.from_dict(
        {"auth": {"openapi": {"bearer": {"bearer": client.token(email)}}}})
    schema = schemathesis.openapi.from_wsgi(OPENAPI, app, config=config,
                                            base_url=client.base_url)
    served = operations_on(app, kind)
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    examples = EXAMPLES[subdomain][1 if postgres else 0]
    objects = own_objects(app, base, "molenbeek")
    hooks = with_own_objects(objects)
    answered: dict[tuple[GenerationMode, str], Counter[int]] = {}

    def call(case: Any) -> Any:
        response = case.call(base_url=client.base_url)
        mode = case.meta.generation.mode
        answered.setdefault((mode, case.operation.label), Counter())[response.status_code] += 1
        return response

    modes = [GenerationMode.POSITIVE]
    if subdomain in NEGATIVE_ON:
        modes.append(GenerationMode.NEGATIVE)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in served:
            continue
        own = {name: objects[name] for name in re.findall(r"{(\w+)}", operation.path)}
        for mode in modes:
            # Half the cases as generated (unknown ids: 404, 422), half on this campus's
            # objects (path and body ids), so that they pass the lookups and meet the rules.
            # Negative cases keep their generated body: putting real ids into it could make
            # the one invalid value valid again.
            strategy = st.one_of(
                operation.as_strategy(generation_mode=mode),
                operation.as_strategy(
                    generation_mode=mode, path_parameters=own,
                    hooks=hooks if mode is GenerationMode.POSITIVE else None))
            checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else POSITIVE_CHECKS
            failure = fuzz_operation(operation, strategy, call, checks, examples)
            if failure:
                failures.append(f"[{mode.value}] {failure}")
    assert failures == [], "\n\n".join(failures)

    # The run proves something only if the token held and the cases got past the lookups.
    positive = {label: statuses for (mode, label), statuses in answered.items()
                if mode is GenerationMode.POSITIVE}
    assert len(positive) >= 3, f"no API operation found on {subdomain}.{DOMAIN}"
    refused = sorted(label for label, statuses in positive.items()
                     if statuses[401] and label != "POST /api/v1/auth/token")
    assert refused == [], f"the token was refused during the run: {refused}"
    succeeded = [label for label, statuses in positive.items()
                 if any(200 <= status < 300 for status in statuses)]
    assert len(succeeded) >= len(positive) // 2, sorted(set(positive) - set(succeeded))


# --- what the fuzzer found, pinned down -------------------------------------------------------


def test_an_id_past_bigint_is_404_for_every_method_not_405(site, base):
    molenbeek = site("molenbeek")
    auth = {"Authorization": f"Bearer {molenbeek.token(manager('molenbeek'))}"}
    too_large = 2**64
    for method, path in (("DELETE", f"/api/v1/certification-awards/{too_large}"),
                         ("PATCH", f"/api/v1/learners/{too_large}"),
                         ("POST", f"/api/v1/cohorts/{too_large}/transition"),
                         ("GET", f"/api/v1/learners/{too_large}")):
        response = molenbeek.open(method, path, headers=auth, json={})
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["code"] == "not_found"


def test_nested_field_errors_have_the_documented_shape(app, site, base):
    molenbeek = site("molenbeek")
    auth = {"Authorization": f"Bearer {molenbeek.token(manager('molenbeek'))}"}
    response = molenbeek.post("/api/v1/invoices", headers=auth, json={
        "partner_id": base.partner_id,
        "lines": [{"description": "Seats", "quantity": 1, "unit_minor": 100},
                  {"description": "Seats", "quantity": 0, "unit_minor": 100}]})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert list(error["fields"]["lines"]["1"]) == ["quantity"]
    document = build_spec(app)
    messages = document["components"]["schemas"]["ErrorBody"]["properties"]["fields"]
    assert {"type": "object"} in messages["additionalProperties"]["oneOf"]


def test_patch_bodies_are_documented_with_every_field_optional(app):
    document = build_spec(app)
    patch = document["paths"]["/api/v1/learners/{learner_id}"]["patch"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body == "#/components/schemas/LearnerInputPatch"
    assert "required" not in document["components"]["schemas"]["LearnerInputPatch"]
    assert set(document["components"]["schemas"]["LearnerInput"]["required"]) == {
        "full_name", "email"}
    # Attendance is a whole replacement: its one field stays required.
    attendance = document["paths"]["/api/v1/enrollments/{enrolment_id}"]["patch"]
    assert attendance["requestBody"]["content"]["application/json"]["schema"]["$ref"] == \
        "#/components/schemas/AttendanceInput"


def test_decimals_are_documented_as_marshmallow_writes_them(app):
    schemas = build_spec(app)["components"]["schemas"]
    assert schemas["BillingEntity"]["properties"]["vat_rate"]["type"] == "string"  # "21.00"
    assert schemas["FxRate"]["properties"]["rate"]["type"] == "string"
    assert schemas["RoyaltyRate"]["properties"]["rate"]["type"] == "string"
    fx_input = schemas["FxRateInput"]["properties"]["rate"]
    assert fx_input["type"] == "number" and isinstance(fx_input["maximum"], float)


def test_nullable_outputs_are_documented_nullable(app):
    schemas = build_spec(app)["components"]["schemas"]
    for schema, field in (("HqInvoice", "lines"), ("HqInvoice", "structured_communication"),
                          ("ImpactTarget", "campus"), ("ImpactTarget", "partner"),
                          ("ImpactTargetProgress", "ends_on"),
                          ("ImpactTargetProgress", "positive_outcome_target")):
        assert schemas[schema]["properties"][field].get("nullable") is True, (schema, field)
    issue = build_spec(app)["paths"]["/api/v1/invoices/{number}/issue"]["post"]
    assert issue["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == \
        "#/components/schemas/HqInvoice"  # HQ sees the campus of the invoice it issues
