"""Money: currencies and FX, the revenue ledger and its rollups, campus and HQ figures, impact,
billing entities, partner agreements, invoices, payments (Stripe or manual), royalties and the
partner portal.
"""

import importlib

from flask import Flask

from core.seeding import register_seeder

FEATURES = ("billing.currencies", "billing.ledger", "billing.reports", "billing.impact",
            "billing.entities", "billing.agreements", "billing.invoices", "billing.payments",
            "billing.royalties", "billing.portal")


def init_app(app: Flask) -> None:
    from billing.demo import seed_revenue
    from billing.demo_billing import seed_billing

    for name in FEATURES:  # models mapped before the first query or migration
        importlib.import_module(f"{name}.models")
        importlib.import_module(name).init_app(app)
    register_seeder(app, seed_revenue)
    register_seeder(app, seed_billing)
