"""The shared catalogue owned by HQ. Registered by core.app."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the catalogue's blueprints and navigation (none yet)."""
    from core.catalogue import models  # noqa: F401  (mapped before queries and migrations)
