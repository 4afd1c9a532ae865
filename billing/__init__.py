"""Money: currencies and FX, the revenue ledger and its rollups, campus and HQ figures, impact.

Stripe, partner invoices and royalties come next, plugged in the same way.
"""

import importlib

from flask import Flask

from core.seeding import register_seeder

FEATURES = ("billing.currencies", "billing.ledger", "billing.reports", "billing.impact")


def init_app(app: Flask) -> None:
    from billing.demo import seed_revenue

    for name in FEATURES:  # models mapped before the first query or migration
        importlib.import_module(f"{name}.models")
        importlib.import_module(name).init_app(app)
    register_seeder(app, seed_revenue)
