"""Tenancy and everything a campus owns.

`init_app` wires the host → site resolution, the campus scope of each request, the pages and
API of campus-owned features, the `campus` commands and the demo seed.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click
from flask import Flask, abort, current_app, g, request
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.seeding import register_seeder
from tenants.scoping import CampusOwned, Scope, bind_for_request, unbind

log = logging.getLogger(__name__)


def campus_owned_tables() -> list[str]:
    return sorted(
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, CampusOwned)
    )


# Feature packages of a campus, each with `models.py` and an `init_app(app)`.
FEATURES = (
    "tenants.learners",
    "tenants.cohorts",
    "tenants.applications",
    "tenants.enrolments",
    "tenants.records",
    "tenants.coworking",
    "tenants.events",
    "tenants.audit",
)


def init_app(app: Flask) -> None:
    importlib.import_module("tenants.campuses.models")
    for name in FEATURES:  # every model mapped before the first query or migration
        importlib.import_module(f"{name}.models")
        importlib.import_module(name).init_app(app)
    from tenants.campuses import cli as campus_cli
    from tenants.campuses import views as campus_views
    from tenants.demo import seed_network

    app.before_request(resolve_request_site)
    app.teardown_request(release_request_scope)
    campus_views.init_app(app)
    app.cli.add_command(campus_cli.campus)
    register_seeder(app, seed_network)

    app.cli.add_command(tenancy)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.before_request(refuse_unsafe_database)

    @app.context_processor
    def campus_context() -> dict:
        return {"campus": g.get("campus")}


def database_security_problems() -> list[str]:
    """What makes the database unsafe for this app (PostgreSQL only): role rights and policies."""
    from tenants.rls import security_problems

    with db.engine.connect() as connection:
        return security_problems(connection, campus_owned_tables())


def refuse_unsafe_database() -> None:
    """Check the database once per process before serving; refuse every request if it is unsafe."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "site_independent", False):
        return  # probes answer on their own terms
    state = current_app.extensions.setdefault("campusflow.db_security", {})
    if "problems" not in state:
        try:
            problems = database_security_problems()
        except SQLAlchemyError:
            log.warning("Database security check postponed: the database does not answer")
            abort(503)
        for problem in problems:
            log.critical("Refusing to serve: %s", problem)
        state["problems"] = problems
    if state["problems"]:
        abort(503)


tenancy = AppGroup("tenancy", help="Database roles and row-level security (PostgreSQL).")


@tenancy.command("roles-sql")
@click.option("--database", default="campusflow", show_default=True)
@click.option("--owner", default="campusflow_owner", show_default=True,
              help="Owns the tables; migrations connect as it.")
@click.option("--app-role", default="campusflow_app", show_default=True,
              help="The app connects as it; owns nothing, under row-level security.")
@click.password_option("--owner-password", prompt="Owner password")
@click.password_option("--app-password", prompt="App role password")
def roles_sql_command(database, owner, app_role, owner_password, app_password) -> None:
    """Print the SQL a superuser runs once to create the two roles (pipe it into psql)."""
    from tenants.rls import role_setup_sql

    for statement in role_setup_sql(database, owner, app_role, owner_password, app_password):
        click.echo(statement + ";")


@tenancy.command("check-database")
def check_database_command() -> None:
    """Exit non-zero unless the app's database role is safe for campus isolation."""
    if db.engine.dialect.name != "postgresql":
        click.secho("Row-level security exists only on PostgreSQL; point DATABASE_URL at it.",
                    fg="red", err=True)
        sys.exit(1)
    problems = database_security_problems()
    for problem in problems:
        click.secho(f"UNSAFE: {problem}", fg="red", err=True)
    if problems:
        sys.exit(1)
    click.echo("Database role and row-level security policies are in order.")


def resolve_request_site() -> None:
    """Resolve the host once per request; bind the campus of a campus site for the ORM and RLS."""
    from tenants.hosts import resolve_site

    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "site_independent", False):
        return
    site, campus = resolve_site(request.host, current_app.config["CAMPUSFLOW_DOMAIN"])
    g.site, g.campus = site, campus
    if campus is not None:
        g.site_locale = campus.default_locale
        g.site_country = campus.country  # core.i18n: languages offered only in some countries
        g.site_timezone = campus.timezone
        g.campus_scope_token = bind_for_request(Scope(campus_id=campus.id), db.session)


def release_request_scope(_error: BaseException | None = None) -> None:
    token = g.pop("campus_scope_token", None)
    if token is not None:
        unbind(token)
