"""The customer data report as an owner exports it: the answer to an access request (SPEC 4).

Rendered on the spot (one customer's report takes well under the two seconds allowed, see
bench/report_bench.py), so there is no job and no file left on the server to erase later.
"""

from flask import Response, abort, current_app, request

from ..models import utcnow
from ..reports import customer_report
from ..web import customer_or_404, record_audit
from . import bp


def _report_language(customer) -> str:
    """?language=xx when given (404 for one we do not print), else the customer's language.

    The report is addressed to the customer, who receives it in answer to their request, so it
    defaults to their preferred language rather than the owner's; an owner who wants to read
    it first, or in another language, adds ?language=.
    """
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("language")
    if asked is not None:
        if asked not in languages:
            abort(404)
        return asked
    preferred = customer.preferred_language
    return preferred if preferred in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.get("/customers/<int:customer_id>/data-report.pdf")
def customer_data_report(customer_id: int):
    """Download everything held about one customer as a PDF; audited."""
    customer = customer_or_404(customer_id)
    body = customer_report.render_pdf(customer, _report_language(customer))
    record_audit("customer_data_report_exported", target_type="customer", target_id=customer.id)
    response = Response(body, mimetype="application/pdf")
    name = customer_report.filename(customer, utcnow())
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # Personal data: never kept by a shared cache or the browser's back button.
    response.headers["Cache-Control"] = "no-store"
    return response
