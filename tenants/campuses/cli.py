"""`flask campus …`: open a campus with no code change."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from core.errors import AppError
from core.extensions import db
from tenants.campuses.models import CampusStatus
from tenants.campuses.services import create_campus

campus = AppGroup("campus", help="Campuses of the network.")


@campus.command("create")
@click.option("--slug", required=True, help="Subdomain, e.g. ghent.")
@click.option("--name", required=True)
@click.option("--city", required=True)
@click.option("--country", required=True, help="ISO 3166 code, e.g. BE.")
@click.option("--currency", required=True, help="ISO 4217 code, e.g. EUR.")
@click.option("--timezone", required=True, help="IANA name, e.g. Europe/Brussels.")
@click.option("--locale", required=True, help="Default locale, e.g. nl_BE.")
@click.option("--status", type=click.Choice([s.value for s in CampusStatus]),
              default=CampusStatus.PLANNED.value, show_default=True)
@click.option("--opened-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def create_command(slug, name, city, country, currency, timezone, locale, status, opened_on):
    """Open a new campus; its site is <slug>.<domain> at once."""
    try:
        created = create_campus(
            slug=slug, name=name, city=city, country=country, currency=currency,
            timezone=timezone, locale=locale, status=status,
            opened_on=opened_on.date() if opened_on else None,
        )
    except AppError as error:
        db.session.rollback()
        click.secho(f"Error: {error.message}", fg="red", err=True)
        for field, messages in error.fields.items():
            click.secho(f"  --{field}: {' '.join(map(str, messages))}", fg="red", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Campus {created.slug} created (id {created.id}, {created.currency}, "
               f"{created.timezone}).")
