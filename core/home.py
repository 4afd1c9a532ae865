"""`/` on every site: each feature package registers the home page of the kinds of site it owns.

Home pages may show panels that higher layers register (`core.panels`): templates call
`home_panels("<page>")`, which renders those the signed-in user's role may see.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app
from flask_login import current_user
from markupsafe import Markup

from core.panels import render_panels
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


@bp.app_template_global()
def home_panels(page: str) -> list[Markup]:
    """The panels registered for `page` that the signed-in user's role may see (none for a
    visitor)."""
    if not getattr(current_user, "is_authenticated", False):
        return []
    return render_panels(current_app, page, current_user.role.value)
