"""`flask billing …`: the billing command group, shared by the invoice and royalty runs.

Each feature attaches its commands to `billing` (billing/agreements/cli.py, billing/royalties/
cli.py); `register(app)` adds the group to the app once, whichever feature asks first.
"""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from core.errors import InvalidInput

billing = AppGroup("billing", help="Partner invoice runs and royalty statements.")


def register(app: Flask) -> None:
    if app.cli.commands.get("billing") is not billing:
        app.cli.add_command(billing)


class MonthType(click.ParamType):
    """`YYYY-MM` → the first day of that month; anything else is a usage error (exit 2)."""

    name = "YYYY-MM"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        from billing.agreements.runs import parse_month

        try:
            return parse_month(value)
        except InvalidInput as error:
            self.fail(error.message, param, ctx)


MONTH = MonthType()
