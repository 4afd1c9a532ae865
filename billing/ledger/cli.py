"""`flask ledger verify|rebuild` and `flask fx import FILE.csv`."""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.currencies.services import import_rates, parse_rates_csv
from billing.ledger.services import rebuild_rollups, verify_rollups
from core.cli import progress_bar
from core.errors import AppError
from core.extensions import db
from core.progress import tracked
from tenants.campuses.models import Campus
from tenants.scoping import all_campuses, campus_scope

ledger = AppGroup("ledger", help="The revenue ledger and its monthly rollups.")
fx = AppGroup("fx", help="Exchange rates (units of a currency per euro).")


@ledger.command("verify")
def verify_command() -> None:
    """Recompute every rollup from the entries; exit 1 on any difference."""
    with all_campuses(db.session):
        differences = verify_rollups()
    for d in differences:
        click.secho(f"campus {d.campus_id} {d.month:%Y-%m} {d.stream} {d.currency}: stored "
                    f"{d.stored} computed {d.computed} (amount, EUR, entries)", fg="red", err=True)
    if differences:
        click.secho(f"{len(differences)} rollup(s) differ; run `flask ledger rebuild`.",
                    fg="red", err=True)
        sys.exit(1)
    click.echo("Rollups match the ledger.")


@ledger.command("rebuild")
def rebuild_command() -> None:
    """Rewrite every campus's rollups from its entries."""
    campuses = list(db.session.scalars(select(Campus).order_by(Campus.slug)))
    with closing(tracked(campuses, progress_bar(), "Rebuilding rollups")) as each:
        for campus in each:
            with campus_scope(campus.id, db.session):
                rebuild_rollups(campus.id)
    db.session.commit()
    click.echo(f"Rollups rebuilt for {len(campuses)} campuses.")


@fx.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Import `date,currency,rate` lines; a bad line is named and nothing is imported."""
    try:
        rows = parse_rates_csv(path.read_text(encoding="utf-8-sig"))
        with closing(tracked(rows, progress_bar(), "Importing rates")) as each:
            count = import_rates(each)
    except AppError as error:
        db.session.rollback()
        click.secho(f"Error: {error.message} Nothing was imported.", fg="red", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Imported {count} rate(s).")
