"""Download: everything held about the signed-in customer as a PDF, JSON or CSV (SPEC 5).

Each download is audited with its format; the file is built from customer_data.collect, so
the three formats and the My data page hold the same facts.
"""

from flask import Response, render_template

from .. import audit, customer_data
from ..i18n import select_language
from ..models import utcnow
from ..reports import customer_report
from ..web import client_address
from . import bp
from .session import current_customer


def _downloaded(customer, file_format: str) -> None:
    audit.record(
        "customer_data_downloaded",
        actor_type="customer",
        actor_id=customer.id,
        target_type="customer",
        target_id=customer.id,
        ip_address=client_address(),
        format=file_format,
    )


def _attachment(body, mimetype: str, extension: str) -> Response:
    filename = f"kartoteka-my-data-{utcnow():%Y-%m-%d}.{extension}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: never kept by a shared cache or the browser's back button.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/download")
def download():
    return render_template("customer/download.html", customer=current_customer())


@bp.get("/download.pdf")
def download_pdf():
    # The same report an owner exports for an access request, in the customer's page language.
    customer = current_customer()
    pdf = customer_report.render_pdf(customer, select_language())
    _downloaded(customer, "pdf")
    return _attachment(pdf, "application/pdf", "pdf")


@bp.get("/download.json")
def download_json():
    customer = current_customer()
    body = customer_data.to_json(customer_data.collect(customer, select_language()))
    _downloaded(customer, "json")
    return _attachment(body, "application/json; charset=utf-8", "json")


@bp.get("/download.csv")
def download_csv():
    customer = current_customer()
    body = customer_data.to_csv(customer_data.collect(customer, select_language()))
    _downloaded(customer, "csv")
    return _attachment(body, "text/csv; charset=utf-8", "csv")
