"""gunicorn settings from the environment: HOST, PORT, WEB_CONCURRENCY, GUNICORN_TIMEOUT,
FORWARDED_ALLOW_IPS."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Refuse to start when the database would not isolate campuses (PostgreSQL only)."""
    from core.app import create_app
    from core.extensions import db
    from tenants import database_security_problems

    app = create_app()
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    with app.app_context():
        problems = database_security_problems()
        db.engine.dispose()
    for problem in problems:
        server.log.critical("Refusing to start: %s", problem)
    if problems:
        raise SystemExit(1)
