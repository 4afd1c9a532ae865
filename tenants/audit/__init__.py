"""The audit log: every change made by a person, a webhook or a command, append-only.

Capture is generic (`capture.py`: after each flush, one entry per changed row, in the same
transaction); storage follows tenancy (`models.py`: a campus's changes in a campus-owned table,
changes to global rows in a global one that only HQ reads). Registered by tenants.init_app:
`/audit` and `/audit.csv` on campus sites (manager, HQ) and on `hq.` (every campus),
`/api/v1/audit`, and the "Audit log" link.

A view whose changes are not a signed-in person's names its actor with an attribute, as
`csrf_exempt` is set: `stripe_webhook.audit_actor = "webhook:stripe"`. Code outside a request
can use `acting_as("…")` (context.py).

Append-only, with one exception: a learner's erasure (tenants.learners.privacy) blanks the
person's values in earlier entries, through the personal-data source registered here
(privacy.py), and records that it did.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.sites import SiteKind
from tenants.audit.context import acting_as

__all__ = ["acting_as", "init_app"]

READER_VALUES = frozenset({"hq_admin", "campus_manager"})


def init_app(app: Flask) -> None:
    from tenants.audit import api, capture, views  # noqa: F401 (capture listens to flushes)
    from tenants.audit.privacy import AUDIT_SOURCE
    from tenants.learners.privacy import register_personal_data_source

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    # Last of the sources: a learner's erasure then blanks their values in the log too.
    register_personal_data_source(app, AUDIT_SOURCE)
    register_nav(app, NavItem("audit.index", _l("Audit log"),
                              frozenset({SiteKind.CAMPUS, SiteKind.HQ}), roles=READER_VALUES,
                              order=95))
