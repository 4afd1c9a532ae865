"""The revenue ledger: see models.py. Registered by billing.init_app."""

from flask import Flask


def init_app(app: Flask) -> None:
    from billing.ledger import cli

    app.cli.add_command(cli.ledger)
    app.cli.add_command(cli.fx)
