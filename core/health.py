"""Liveness and readiness probes, answered on every host."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db, limiter
from core.sites import public

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def site_independent(view):
    """Served before and without host resolution (load balancers probe by IP)."""
    view.site_independent = True
    return view


@bp.get("/healthz")
@limiter.exempt
@site_independent
@public
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@limiter.exempt
@site_independent
@public
def readyz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("Readiness check failed: the database does not answer")
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "down"}), 503
    return jsonify({"status": "ok", "database": "up"})
