"""Currencies: see models.py. Registered by billing.init_app."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, commands and navigation (none yet)."""
