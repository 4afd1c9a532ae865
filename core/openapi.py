"""The OpenAPI 3 document of the JSON API, generated from the marshmallow schemas.

Each endpoint declares what it takes and returns with `@documented(...)`; `/api/v1/openapi.json`
walks the URL map, so the document follows the routes (a test checks every API route is documented).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, resolver
from flask import Blueprint, Flask, current_app, jsonify
from marshmallow import Schema, fields

from core.sites import SiteKind, on_sites, public

bp = Blueprint("openapi", __name__)

ERROR_STATUSES = {
    400: "Malformed request or foreign host",
    401: "Not signed in, or the token is not valid on this site",
    403: "Your role may not do this",
    404: "No such object on this site",
    409: "The state change does not apply",
    422: "Invalid input; `fields` names each failing field",
    429: "Too many attempts",
}


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    # Field name → its messages; a nested object or list (e.g. invoice `lines`) maps its own
    # fields or item indexes the same way: {"lines": {"3": {"quantity": ["…"]}}}.
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.Raw(metadata={
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]}))


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


# A decimal marshmallow writes as text ("21.00"); reading also takes a JSON number.
DECIMAL_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"


def _decimal_properties(_converter: Any, field: fields.Field, ret: dict[str, Any],
                        **_kwargs: Any) -> dict[str, Any]:
    """Decimals as marshmallow handles them (apispec calls every one a number, limits as text):
    an `as_string` decimal is a string of digits, the others numbers with numeric limits."""
    if not isinstance(field, fields.Decimal) or "type" in field.metadata:
        return {}
    limits = {key: ret.pop(key) for key in ("minimum", "maximum") if key in ret}
    if field.as_string:
        return {"type": "string", "pattern": DECIMAL_TEXT,
                **{f"x-{key}": str(value) for key, value in limits.items()}}
    return {key: float(value) for key, value in limits.items()}


def documented(
    summary: str,
    *,
    query: type[Schema] | None = None,
    body: type[Schema] | None = None,
    response: type[Schema] | None = None,
    status: int = 200,
    many: bool = False,
    paginated: bool = False,
    errors: tuple[int, ...] = (401, 403, 404, 422),
    partial: bool | None = None,
) -> Callable:
    """Describe a JSON endpoint for the OpenAPI document (it changes nothing at run time).

    `partial`: every field of `body` is optional (`load_json(schema, partial=True)`); by
    default true for PATCH, false otherwise.
    """

    def decorator(view: Callable) -> Callable:
        view.api_doc = {  # type: ignore[attr-defined]
            "summary": summary, "query": query, "body": body, "response": response,
            "status": status, "many": many, "paginated": paginated, "errors": errors,
            "partial": partial,
        }
        return view

    return decorator


def _page_of(schema: type[Schema]) -> type[Schema]:
    return type(f"{schema.__name__.removesuffix('Schema')}PageSchema", (Schema,), {
        "items": fields.List(fields.Nested(schema)),
        "page": fields.Integer(), "per_page": fields.Integer(), "total": fields.Integer(),
    })


_PAGE_SCHEMAS: dict[type[Schema], type[Schema]] = {}


def _path_parameter_types(rule: str) -> dict[str, str]:
    """OpenAPI type of each URL argument: `<int:…>` an integer, any other a string."""
    return {name: "integer" if converter == "int:" else "string"
            for converter, name in re.findall(r"<([^:<>]+:)?([^<>]+)>", rule)}


def _schema_name(schema: type[Schema] | Schema) -> str:
    """Component name: the class name without `Schema`, plus `Patch` for a partial body."""
    name = resolver(schema)
    return f"{name}Patch" if isinstance(schema, Schema) and schema.partial is True else name


def _operation(doc: dict[str, Any], path_params: dict[str, str], public: bool, method: str
               ) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": doc["summary"], "responses": {}}
    if public:
        operation["security"] = []  # no token needed
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": kind}}
        for name, kind in sorted(path_params.items())
    ]
    if doc["query"] is not None:
        parameters.append({"in": "query", "schema": doc["query"]})
    if parameters:
        operation["parameters"] = parameters
    if doc["body"] is not None:
        partial = doc.get("partial")
        body = doc["body"](partial=True) if (
            method == "PATCH" if partial is None else partial) else doc["body"]
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": body}}}
    response_schema: Any = doc["response"]
    if response_schema is not None and doc["paginated"]:
        response_schema = _PAGE_SCHEMAS.setdefault(response_schema, _page_of(response_schema))
    if response_schema is not None and doc["many"]:
        response_schema = {"type": "array", "items": response_schema}
    success: dict[str, Any] = {"description": "Success"}
    if response_schema is not None:
        success["content"] = {"application/json": {"schema": response_schema}}
    operation["responses"][str(doc["status"])] = success
    for status in doc["errors"]:
        operation["responses"][str(status)] = {
            "description": ERROR_STATUSES[status],
            "content": {"application/json": {"schema": ErrorSchema}},
        }
    return operation


def build_spec(app: Flask) -> dict[str, Any]:
    marshmallow_plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="Campusflow API", version="1", openapi_version="3.0.3",
        plugins=[marshmallow_plugin],
        info={"description": "JSON API of a Campusflow site. The host chooses the site; "
                             "authenticate with `Authorization: Bearer <token>` from "
                             "`POST /api/v1/auth/token`."},
    )
    marshmallow_plugin.converter.add_attribute_function(_decimal_properties)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "api_doc", None)
        if doc is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                doc, _path_parameter_types(rule.rule), getattr(view, "is_public", False), method)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document


@bp.get("/api/v1/openapi.json")
@on_sites(*SiteKind)
@public
def openapi_document():
    cache = current_app.extensions.setdefault("campusflow.openapi", {})
    if "document" not in cache:  # built once per process: the routes do not change
        cache["document"] = build_spec(current_app)
    return jsonify(cache["document"])
