"""JSON API plumbing: input loading, pagination and the envelope of list responses."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select

from core.extensions import db

MAX_PER_PAGE = 100


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    q = fields.String(load_default="", validate=validate.Length(max=200))


def strip_strings(data: Any, keys: tuple[str, ...], blank_to_none: tuple[str, ...] = ()) -> Any:
    """Trim the given text keys; an empty optional key becomes None (a form sends "")."""
    if not isinstance(data, dict):
        return data
    cleaned = dict(data)
    for key in keys:
        value = cleaned.get(key)
        if isinstance(value, str):
            value = value.strip()
            cleaned[key] = None if key in blank_to_none and not value else value
    return cleaned


def load_json(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The request's JSON body loaded by `schema`; raises ValidationError (→ 422)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        message = _("Send a JSON object (Content-Type: application/json).")
        raise ValidationError({"_schema": [message]})
    return schema.load(data, partial=partial)


def load_args(schema: Schema) -> dict[str, Any]:
    """The query string loaded by `schema`, unknown parameters ignored; raises ValidationError."""
    return schema.load(request.args.to_dict(), unknown="exclude")


def paginated(statement: Select, schema: Schema, page: int, per_page: int) -> dict[str, Any]:
    """`{"items", "page", "per_page", "total"}` for one page of `statement`."""
    result = db.paginate(statement, page=page, per_page=per_page, error_out=False,
                         max_per_page=MAX_PER_PAGE)
    return {
        "items": schema.dump(result.items, many=True),
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
    }
