"""`flask billing invoice-partners --month YYYY-MM`: the partner invoice run, with a progress
bar."""

from __future__ import annotations

import sys
from datetime import date

import click

from billing.agreements.runs import (
    check_month_is_over,
    invoice_partners,
    previous_month,
    run_summary,
)
from billing.cli import MONTH, billing
from core.cli import progress_bar
from core.database import utcnow
from core.errors import AppError, InvalidInput
from core.extensions import db


def checked_month(month: date | None, today: date) -> date:
    """The month asked for (default: last month); one not over yet is a usage error (exit 2)."""
    month = month or previous_month(today)
    try:
        check_month_is_over(month, today)
    except InvalidInput as error:
        raise click.BadParameter(error.message, param_hint="'--month'") from error
    return month


def run_with_bar(run, month: date, today: date):
    """Call `run(month, today=…, progress=…)` with a progress bar (stderr) over its units of
    work; an AppError is printed and exits 1 (what was issued before it stays)."""
    try:
        return run(month, today=today, progress=progress_bar())
    except AppError as error:
        db.session.rollback()
        click.secho(f"Error: {error.message} {error.fields or ''}".rstrip(), fg="red",
                    err=True)
        click.secho("Invoices issued before the error stay; fix the cause and run again.",
                    fg="red", err=True)
        sys.exit(1)


@billing.command("invoice-partners")
@click.option("--month", type=MONTH, default=None,
              help="The month to invoice, YYYY-MM (default: last month).")
def invoice_partners_command(month: date | None) -> None:
    """Invoice each partner for a month: one invoice per agreement and campus, from its terms
    and the month's facts. Running it again creates nothing new."""
    today = utcnow().date()
    month = checked_month(month, today)
    result = run_with_bar(invoice_partners, month, today)
    click.echo(run_summary(result))
