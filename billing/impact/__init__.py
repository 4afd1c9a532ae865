"""Impact: the funnel of the network's programmes and HQ's targets (see services.py).

Registered by billing.init_app.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.seeding import register_seeder
from core.sites import SiteKind


def init_app(app: Flask) -> None:
    """Register the report page and target forms (HQ), the JSON API, navigation and demo seed."""
    from billing.impact import api, views
    from billing.impact.demo import seed_impact_targets

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("impact.report", _l("Impact"), frozenset({SiteKind.HQ}),
                              roles=frozenset({"hq_admin"}), order=50))
    register_seeder(app, seed_impact_targets)
