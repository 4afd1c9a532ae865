"""`flask billing royalties --month YYYY-MM`: each campus's royalty statement, with a progress
bar."""

from __future__ import annotations

from datetime import date

import click

from billing.agreements.cli import checked_month, run_with_bar
from billing.agreements.runs import run_summary
from billing.cli import MONTH, billing
from billing.royalties.runs import issue_royalties
from core.database import utcnow


@billing.command("royalties")
@click.option("--month", type=MONTH, default=None,
              help="The month of revenue, YYYY-MM (default: last month).")
def royalties_command(month: date | None) -> None:
    """Issue each campus's royalty statement for a month, from the ledger, as an invoice from
    HQ to the campus. Running it again creates nothing new."""
    today = utcnow().date()
    month = checked_month(month, today)
    result = run_with_bar(issue_royalties, month, today)
    click.echo(run_summary(result))
