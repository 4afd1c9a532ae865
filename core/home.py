"""`/` on every site: each feature package registers the home page of the kinds of site it owns."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app

from core.sites import SiteKind, current_site, public

bp = Blueprint("core", __name__)
_EXTENSION_KEY = "campusflow.homes"


def register_home(app: Flask, kind: SiteKind, view: Callable) -> None:
    app.extensions.setdefault(_EXTENSION_KEY, {})[kind] = view


@bp.route("/")
@public
def home():
    site = current_site()
    view = current_app.extensions.get(_EXTENSION_KEY, {}).get(site.kind if site else None)
    if view is None:
        abort(404)
    return view()
