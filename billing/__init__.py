"""Money: currencies and FX, the revenue ledger, Stripe, partner invoices, royalties.

Nothing is built here yet; the package is loaded so that later features plug in the same way.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register billing's blueprints and commands (none yet)."""
