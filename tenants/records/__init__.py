"""The learning record: certification awards and outcomes on the path to work."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the learner record pages and the awards and outcomes API (no nav link: the
    record is reached from the learner and enrolment pages)."""
    from tenants.records import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
