"""`GET /api/v1/reports/revenue` on the HQ site: consolidated revenue in EUR."""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import EXCLUDE

from billing.reports.schemas import RevenueArgsSchema, RevenueReportSchema, filter_values
from billing.reports.services import revenue_report
from core.auth.access import roles_required
from core.auth.models import Role
from core.database import utcnow
from core.openapi import documented
from core.sites import SiteKind, on_sites

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")

READERS = (Role.HQ_ADMIN,)


@bp.get("/revenue")
@documented("Consolidated revenue of every campus in EUR, from the monthly rollups. `from`/`to` "
            "are months (YYYY-MM, default: this calendar year); `group_by` is any of campus, "
            "month, stream in that order (default all three; empty: one total row); `campus` "
            "and `stream` filter with comma-separated slugs and streams. Each row carries only "
            "the keys of the grouping, sorted by them.",
            query=RevenueArgsSchema, response=RevenueReportSchema)
@on_sites(SiteKind.HQ)
@roles_required(*READERS)
def revenue():
    args = RevenueArgsSchema(today=utcnow().date()).load(filter_values(request.args),
                                                         unknown=EXCLUDE)
    report = revenue_report(args["start"], args["end"], args["group_by"],
                            campus_slugs=args["campuses"], streams=args["streams"])
    # The rows leave the database in their final shape (RevenueReportSchema documents it):
    # dumping thousands of them through marshmallow would cost more than computing them.
    return {"currency": report.currency, "rows": report.rows,
            "total_eur_minor": report.total_eur_minor}
