"""`POST /api/v1/auth/token`: a bearer token valid on the site it was asked on."""

from __future__ import annotations

from flask import Blueprint, current_app

from core.api import load_json
from core.auth.schemas import TokenRequestSchema, TokenSchema
from core.auth.services import authenticate, issue_token
from core.auth.throttle import record_failure, throttled
from core.auth.views import SIGN_IN_SITES
from core.errors import Unauthorized
from core.openapi import documented
from core.sites import current_site, on_sites, public

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth")


@bp.post("/token")
@documented("A bearer token valid on this site only", body=TokenRequestSchema,
            response=TokenSchema, errors=(401, 422, 429))
@on_sites(*SIGN_IN_SITES)
@public
@throttled
def create_token():
    data = load_json(TokenRequestSchema())
    try:
        user = authenticate(data["email"], data["password"], current_site())
    except Unauthorized:
        record_failure()
        raise
    ttl = current_app.config["API_TOKEN_TTL_HOURS"]
    token = issue_token(user, current_site(), ttl)
    return TokenSchema().dump({"token": token, "expires_in_hours": ttl})
