"""One error shape for the product.

JSON (`/api/...`): `{"error": {"code", "message", "fields"}}`; HTML: the error page in the layout.
Services raise the `AppError` subclasses below; marshmallow's ValidationError becomes 422.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from core.extensions import db

log = logging.getLogger(__name__)


class AppError(Exception):
    """A failure the user can understand; `status` and `code` travel to the response."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, Any] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code is not None:
            self.code = code  # a more precise code, e.g. "cohort_full" for a 409


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class InvalidInput(AppError):
    status, code = 422, "invalid"


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz")


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    elif request_ctx.url_adapter is None:
        # Werkzeug could not even bind the host (e.g. `a..b`): no URL can be built for the layout.
        response = Response(f"{status} {message}", mimetype="text/plain")
    else:
        response = Response(
            render_template("errors/error.html", status=status, message=message, fields=fields),
            mimetype="text/html",
        )
    response.status_code = status
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(error: AppError) -> Response:
        return error_response(error.status, error.code, error.message, error.fields)

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError) -> Response:
        fields = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        return error_response(422, "invalid", _("Some fields are invalid."), fields)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError) -> Response:
        return error_response(400, "csrf", _("The form expired or was not sent by this site. "
                                             "Please try again."))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = _default_message(status) or error.description or error.name
        response = error_response(status, code, message)
        if status == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", _("Something went wrong on our side."))

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError) -> Response:
        if not database_unreachable(error):
            return handle_unexpected(error)
        return database_unavailable(error)


def database_unavailable(error: DBAPIError) -> Response:
    """503 for a database that is briefly away (a restart, a fail-over): an expected outage, not
    a bug, so one warning line and no traceback. The pool replaces the dead connections
    (pool_pre_ping) once it is back; `make soak` checks it.

    Nothing here may touch the database again: no signed-in user (an expired row would reload),
    no page layout, and a fixed locale instead of the locale selector, which reads the user."""
    log.warning("Database unreachable on %s %s: %s", request.method, request.path,
                str(error.orig).strip().splitlines()[0] if error.orig else error)
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.invalidate()
    with force_locale(g.get("site_locale") or "en"):
        message = _("The service is briefly unavailable. Please try again.")
    if wants_json():
        response = jsonify({"error": {"code": "unavailable", "message": message, "fields": {}}})
    else:
        response = Response(f"<!doctype html><title>503</title><p>{escape(message)}</p>",
                            mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response


def database_unreachable(error: DBAPIError) -> bool:
    """True when `error` means the connection to the database was lost or refused (SQLSTATE
    class 08, or 57P01-57P03: shutdown, crash, not yet accepting connections), not a bug."""
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None)
    if state is None:
        return isinstance(error, OperationalError)  # refused before any server answered
    return state.startswith("08") or state in ("57P01", "57P02", "57P03")


def _too_large() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return _("The request is too large.")
    return _("The request is too large: send at most %(size)s.", size=f"{limit / 2**20:g} MB")


def _default_message(status: int) -> str | None:
    messages = {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist."),
        405: _("This method is not allowed here."),
        413: _too_large(),
        429: _("Too many attempts. Please wait a minute and try again."),
    }
    return messages.get(status)
