"""Exports of the customer list (SPEC 4): a list's filters or a saved segment as CSV or XLSX.

Exporting personal data is the owner's act: the list shows owners the form, the file is built
in the background (the job page shows its progress) and the download is audited with every
customer in the file.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import customer_list, exports
from ..customer_list import Filters
from ..form_fields import record_id
from ..web import is_safe_next
from . import bp
from .export_forms import ExportForm
from .report_views import start_report


@bp.app_template_global()
def customer_export_form(filters: Filters) -> ExportForm:
    """The export form for the customer list's current filters (shown to owners only)."""
    return ExportForm(formdata=None, filters=filters.to_json())


@bp.get("/exports/new")
def new_export():
    """The export form for a saved segment (?segment=id) or for the list's filters."""
    args = request.args
    form = ExportForm(formdata=None, segment=args.get("segment"), filters=args.get("filters"))
    if not form.choose_customers():
        abort(404)
    return _page(form)


@bp.post("/exports")
def start_export():
    """Queue the export and show its progress; invalid choices come back with messages."""
    form = ExportForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    params = exports.job_params(
        form.chosen_filters,
        file_format=form.file_format.data,
        purpose_id=form.purpose_id,
        segment_id=form.chosen_segment.id if form.chosen_segment else None,
    )
    return start_report("customer_export", params)


@bp.post("/exports/selection")
def export_selection():
    """Export the customers ticked in the list (its bulk form's "Export selected" buttons)."""
    selected = sorted({n for n in map(record_id, request.form.getlist("customer_ids")) if n})
    file_format = request.form.get("export_format", "")
    back = request.form.get("return_to")
    if not selected or file_format not in exports.FORMATS:
        flash(_("Select at least one customer in the list first."), "error")
        return redirect(back if is_safe_next(back) else url_for("staff.customers"), code=303)
    params = exports.job_params(Filters(), file_format=file_format, selected=selected)
    return start_report("customer_export", params)


def _page(form: ExportForm, status: int = 200):
    filters = form.chosen_filters
    context = {
        "form": form,
        "segment": form.chosen_segment,
        "filters": filters,
        "size": customer_list.count(filters) if filters else None,
        "count_cap": customer_list.SEGMENT_COUNT_CAP,
    }
    return render_template("owner/exports/new.html", **context), status
