"""HQ's exchange-rate page: the rates (filter, pagination), a form for one rate, a CSV upload."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, ValidationError

from billing.currencies.api import EDITORS
from billing.currencies.schemas import FxRateArgsSchema, FxRateInputSchema
from billing.currencies.services import (
    import_rates,
    parse_rates_csv,
    rate_currencies,
    rates_query,
    set_rate,
)
from core.api import MAX_PER_PAGE
from core.auth.access import roles_required
from core.database import utcnow
from core.errors import AppError, InvalidInput
from core.exports import Column, exportable, requested_format, stream, table_response
from core.extensions import db
from core.sites import SiteKind, on_sites

bp = Blueprint("fx", __name__, url_prefix="/fx")

PER_PAGE = 25
MAX_UPLOAD_BYTES = 1024 * 1024  # a year of daily rates for every currency is far smaller
COLUMNS = (
    Column(_l("Day"), lambda rate: rate.day, "date"),
    Column(_l("Currency"), lambda rate: rate.currency, width=10),
    Column(_l("Units per euro"), lambda rate: rate.rate, "number", width=16),
    Column(_l("Entered"), lambda rate: rate.created_at, "datetime"),
)


def _list_args() -> dict[str, Any]:
    """The list filters; a malformed one is dropped rather than refused."""
    values = {k: v for k, v in request.args.to_dict().items()
              if k in ("currency", "page", "q") and v.strip()}
    try:
        return FxRateArgsSchema().load(values, unknown=EXCLUDE)
    except ValidationError as error:
        return FxRateArgsSchema().load({k: v for k, v in values.items()
                                        if k not in error.messages}, unknown=EXCLUDE)


def _render(values: dict | None = None, errors: dict | None = None,
            upload_errors: dict | None = None, message: str | None = None, status: int = 200):
    args = _list_args()
    currency = args["currency"].upper()
    pagination = db.paginate(rates_query(currency or None, args["q"]), page=args["page"],
                             per_page=PER_PAGE, max_per_page=MAX_PER_PAGE, error_out=False)
    page = render_template(
        "fx/index.html", pagination=pagination, currency=currency, currencies=rate_currencies(),
        search=args["q"].strip(),
        values=values or {"day": utcnow().date().isoformat()}, errors=errors or {},
        upload_errors=upload_errors or {}, message=message)
    return page, status


@bp.get("")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
@exportable
def index():
    if fmt := requested_format():
        args = _list_args()
        return table_response(fmt, "fx-rates", COLUMNS,
                              stream(rates_query(args["currency"] or None, args["q"])))
    return _render()


@bp.post("")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def create():
    values = {k: request.form.get(k, "") for k in ("day", "currency", "rate")}
    try:
        data = FxRateInputSchema().load(values)
        rate = set_rate(data["day"], data["currency"], data["rate"])
    except ValidationError as error:
        return _render(values, error.messages, status=422)
    except AppError as error:
        db.session.rollback()
        return _render(values, error.fields, message=error.message, status=error.status)
    flash(_("Saved: 1 EUR = %(rate)s %(currency)s on %(day)s.", rate=rate.rate,
            currency=rate.currency, day=rate.day.isoformat()), "success")
    return redirect(url_for("fx.index", currency=rate.currency))


def _uploaded_text() -> str:
    """The uploaded file as text; raises InvalidInput for none, too large, or not UTF-8."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput(_("Choose a CSV file to import."),
                           {"file": [_("Choose a CSV file to import.")]})
    try:
        content = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(_("The file is larger than 1 MB."),
                           {"file": [_("The file is larger than 1 MB.")]})
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("The file is not UTF-8 text."),
                           {"file": [_("Save the file as CSV (UTF-8).")]}) from None


@bp.post("/import")
@on_sites(SiteKind.HQ)
@roles_required(*EDITORS)
def import_csv():
    try:
        rows = parse_rates_csv(_uploaded_text())
        if not rows:
            raise InvalidInput(_("The file has no rates."), {"file": [_("The file is empty.")]})
        count = import_rates(rows)
    except AppError as error:
        db.session.rollback()  # all or nothing
        problem = " ".join(error.fields.get("file", [])) or error.message
        return _render(upload_errors={"file": [problem]},
                       message=_("Nothing was imported: %(problem)s", problem=problem),
                       status=error.status)
    flash(_("Imported %(count)d rate(s).", count=count), "success")
    return redirect(url_for("fx.index"))
