"""The customer-base summary on the web (SPEC 4): the latest one with its charts, and a button
that asks the job worker for a fresh one (portal/reports/base_summary.py)."""

from flask import render_template

from .. import jobs
from ..reports import base_summary
from . import bp
from .report_views import start_report


@bp.get("/reports/summary")
def report_summary():
    """The latest finished summary and when it was made, or a note that there is none yet."""
    job = jobs.latest_done("base_summary")
    return render_template(
        "owner/reports/summary.html",
        job=job,
        pending=base_summary.pending_job(),
        **base_summary.page_context(jobs.result_data(job) if job else None),
    )


@bp.post("/reports/summary")
def request_report_summary():
    """Queue a fresh summary and show its progress."""
    return start_report("base_summary")
