"""The revenue ledger: see models.py. Registered by billing.init_app.

Commands (`flask ledger …`, `flask fx …`), the campus's revenue pages and API, their navigation
item, and the revenue panel of the campus dashboard (managers and HQ; staff see no money).
"""

from babel.dates import format_date
from flask import Flask, g, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.navigation import NavItem, register_nav
from core.panels import Panel, register_panel
from core.sites import SiteKind

MONEY_ROLE_VALUES = frozenset({"hq_admin", "campus_manager"})


def render_revenue_panel() -> str:
    """This month, the year to date and the last twelve months by stream (a chart) at the
    request's campus, from its rollups (1 query)."""
    from billing.ledger.api import campus_today
    from billing.ledger.charts import chart_currency, months_by_stream
    from billing.ledger.figures import recent_figures
    from billing.ledger.views import stream_labels

    recent = recent_figures(campus_today())
    figures = recent.period()
    currency = g.campus.currency
    currencies = set(figures.year_to_date.by_currency)
    locale = str(get_locale() or "en")
    shown_in = chart_currency(recent.currencies, currency)
    return render_template(
        "revenue/_panel.html", figures=figures, currency=currency,
        month_label=format_date(figures.month, "LLLL yyyy", locale=locale),
        show_eur=currency != "EUR" or not currencies <= {currency},
        chart=months_by_stream(recent.months, recent.cells, shown_in, currency, stream_labels(),
                               locale),
        chart_currency=shown_in,
    )


def init_app(app: Flask) -> None:
    from billing.ledger import api, cli, views

    app.cli.add_command(cli.ledger)
    app.cli.add_command(cli.fx)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, NavItem("revenue.index", _l("Revenue"), frozenset({SiteKind.CAMPUS}),
                              roles=MONEY_ROLE_VALUES, order=80))
    register_panel(app, Panel(page="campus_dashboard", render=render_revenue_panel,
                              roles=MONEY_ROLE_VALUES, order=10))
