"""The complaint report on screen for a chosen period, and its PDF made in the background."""

from flask import render_template, request

from ..business_hours import business_zone
from ..reports import complaint_report
from ..web import record_audit
from . import bp
from .complaint_report_forms import ComplaintPeriodForm, last_full_month
from .report_views import start_report

PAGE = "owner/reports/complaints.html"
# The web page lists this many overdue complaints; the PDF lists them all.
OVERDUE_SHOWN = 100


@bp.get("/reports/complaints")
def complaint_report_page():
    """The figures for ?start=&end= (default: last month), with charts and tables."""
    asked = request.args if request.args else None
    form = ComplaintPeriodForm(formdata=asked, data=last_full_month(), meta={"csrf": False})
    if not form.validate():
        return _invalid(form)
    report = complaint_report.figures(form.start.data, form.end.data)
    shown = report["overdue"][:OVERDUE_SHOWN]
    if shown:
        # The overdue list shows customers' names: audited like any view of their data.
        record_audit(
            "complaint_report_viewed",
            customer_ids=sorted({entry["customer_id"] for entry in shown}),
            start=form.start.data.isoformat(),
            end=form.end.data.isoformat(),
        )
    return render_template(
        PAGE, form=form, overdue_limit=OVERDUE_SHOWN, **complaint_report.context(report)
    )


@bp.post("/reports/complaints/pdf")
def complaint_report_pdf():
    """Queue the PDF of the period and go to its progress page."""
    form = ComplaintPeriodForm()
    if not form.validate_on_submit():
        return _invalid(form)
    return start_report("complaint_report", form.period())


def _invalid(form):
    """The period form with its messages, and no figures."""
    return render_template(PAGE, form=form, time_zone=str(business_zone())), 422
