"""Command groups of the platform: `flask users …` and `flask seed-demo`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from core.auth.models import Role
from core.auth.services import campus_id_for_slug, create_user, partner_id_for_slug
from core.errors import AppError
from core.extensions import db
from core.seeding import seeders

users = AppGroup("users", help="Accounts and their roles.")


def fail(message: str) -> None:
    """Print `message` to stderr and exit non-zero, leaving the database untouched."""
    db.session.rollback()
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(1)


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--campus", "campus_slug", help="Campus slug (campus_manager, campus_staff).")
@click.option("--partner", "partner_slug", help="Partner slug (partner_contact).")
@click.option("--name", "full_name", help="Full name shown in the interface.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(email, role, campus_slug, partner_slug, full_name, password_stdin):
    """Create a user with a role, at a campus or a partner when the role needs one."""
    campus_id = partner_id = None
    if campus_slug:
        campus_id = campus_id_for_slug(campus_slug)
        if campus_id is None:
            fail(f"no campus with slug {campus_slug!r}")
    if partner_slug:
        partner_id = partner_id_for_slug(partner_slug)
        if partner_id is None:
            fail(f"no partner with slug {partner_slug!r}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, role, password, full_name=full_name,
                           campus_id=campus_id, partner_id=partner_id)
    except AppError as error:
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in error.fields.items())
        fail(f"{error.message} {details}".strip())
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo network (campuses, partners, users); safe to run twice."""
    if current_app.config["CAMPUSFLOW_ENV"] == "production":
        fail("demo accounts share a known password; seed-demo is for development only")
    password = current_app.config["DEMO_PASSWORD"]
    sign_ins: list[str] = []
    for seeder in seeders(current_app):
        sign_ins.extend(seeder(password))
    db.session.commit()
    click.echo(f"Demo data ready. Sign-ins (password: {password}):")
    for line in sign_ins:
        click.echo("  " + line.replace("http://", current_app.config["PREFERRED_URL_SCHEME"] + "://")
                   .replace("<domain>", current_app.config["CAMPUSFLOW_DOMAIN"]))


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(seed_demo_command)
