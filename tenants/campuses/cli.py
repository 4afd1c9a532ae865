"""`flask campus …`: open a campus with no code change; move one to another database."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from core.cli import progress_bar
from core.errors import AppError
from core.extensions import db
from tenants.campuses import transfer
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


# Exit status of `campus export` / `campus import` when they refuse: nothing was written.
REFUSED = 2


def _refuse(error: AppError) -> None:
    db.session.rollback()
    click.secho(f"Error: {error.message}", fg="red", err=True)
    sys.exit(REFUSED)


def _summary(counts: dict[str, int]) -> None:
    width = max(map(len, counts), default=0)
    for table, rows in counts.items():
        click.echo(f"  {table:<{width}}  {rows:>8}")


def _rows_summary(counts: dict[str, int]) -> None:
    """Rows per table: the campus-owned tables, then the campus's rows of global tables."""
    owned = {t.name for t in transfer.schema().owned}
    click.echo("Campus-owned rows:")
    _summary({name: rows for name, rows in counts.items() if name in owned})
    click.echo("Global rows of the campus:")
    _summary({name: rows for name, rows in counts.items() if name not in owned})


@campus.command("export")
@click.option("--slug", required=True, help="The campus to export.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(slug: str, file: Path) -> None:
    """Write everything campus SLUG owns to FILE (JSON) for `campus import`.

    FILE holds learners' personal data and staff password hashes: it is made readable by its
    owner only; keep it so. Reads only; exit status 2 when refused.
    """
    try:
        document = transfer.export_campus(slug, progress=progress_bar(label_width=24))
    except AppError as error:
        _refuse(error)
    finally:
        db.session.rollback()  # a read: end the transaction
    try:
        transfer.write_document(document, file)
    except OSError as error:
        click.secho(f"Error: cannot write {file}: {error.strerror or error}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Campus {slug} exported to {file} (schema {document['schema_revision']}).")
    _rows_summary(transfer.row_counts(document))
    references = {name: len(entries) for name, entries in document["references"].items()}
    if references:
        click.echo("Global rows it points at, by natural key (they must exist where it is "
                   "imported):")
        _summary(references)


@campus.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-slug", help="Slug of the campus here, when its own is taken.")
@click.option("--dry-run", is_flag=True, help="Check and load everything, then roll back.")
def import_command(file: Path, as_slug: str | None, dry_run: bool) -> None:
    """Create the campus exported in FILE, with every row it owns under new ids.

    All or nothing, in one transaction. Refused (exit status 2, nothing written) when the file is
    not a sound export of this schema revision, when the slug is taken (see --as-slug), when a
    course, partner, agreement or user it points at is not in this database, or when one of its
    staff e-mails or its billing entity's code already is.
    """
    try:
        document = transfer.read_document(file)
        result = transfer.import_campus(document, as_slug=as_slug,
                                        progress=progress_bar(label_width=24))
    except AppError as error:
        _refuse(error)
    except BaseException:
        db.session.rollback()
        raise
    slug, campus_id = result.campus.slug, result.campus.id
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: campus {slug} would be imported; nothing was written.")
    else:
        db.session.commit()
        click.echo(f"Campus {slug} imported (id {campus_id}).")
    _rows_summary(result.counts)
    if result.references:
        click.echo("Global rows found here by natural key:")
        _summary(result.references)
