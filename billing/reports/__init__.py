"""HQ's consolidated revenue figures. Registered by billing.init_app."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints and navigation (none yet)."""
