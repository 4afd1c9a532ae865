"""The OpenAPI document is generated from the routes and schemas, and covers every API route."""

from core.openapi import build_spec


def test_every_api_route_is_documented(app):
    undocumented = sorted(
        f"{rule.rule} {sorted(rule.methods - {'HEAD', 'OPTIONS'})}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.endpoint != "openapi.openapi_document"
        and not hasattr(app.view_functions[rule.endpoint], "api_doc")
    )
    assert undocumented == [], "decorate these with @documented (core/openapi.py)"


def test_openapi_document_is_served_on_every_site(site, base):
    for subdomain in ("molenbeek", "hq", "partners", None):
        response = site(subdomain).get("/api/v1/openapi.json")
        assert response.status_code == 200, subdomain
        assert response.get_json()["openapi"].startswith("3.")


def test_document_describes_learners_with_their_schema(app):
    document = build_spec(app)
    learners = document["paths"]["/api/v1/learners"]
    assert set(learners) == {"get", "post"}
    assert "201" in learners["post"]["responses"]
    body = learners["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/LearnerInput"}
    required = document["components"]["schemas"]["LearnerInput"]["required"]
    assert set(required) == {"full_name", "email"}
    one = document["paths"]["/api/v1/learners/{learner_id}"]["get"]
    assert one["parameters"][0] == {"in": "path", "name": "learner_id", "required": True,
                                    "schema": {"type": "integer"}}


def test_public_operations_need_no_token(app):
    document = build_spec(app)
    assert document["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert "security" not in document["paths"]["/api/v1/learners"]["get"]
    assert document["security"] == [{"bearer": []}]
