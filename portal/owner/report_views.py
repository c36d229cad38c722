"""Reports (SPEC 4): the page that lists them, and the background jobs that build the big ones.

A report over the whole base is a job (portal/jobs.py): starting one redirects to its page,
which polls its progress with HTMX and offers the file when done. Downloading is audited.
"""

import mimetypes
from pathlib import Path

from flask import abort, redirect, render_template, send_file, url_for
from flask_login import current_user

from .. import jobs
from ..i18n import select_language
from ..models import ExportJob
from ..web import is_htmx, record_audit
from . import bp


def start_report(kind: str, params: dict | None = None):
    """Queue a report for the signed-in owner and show its progress page."""
    job = jobs.start(kind, language=select_language(), params=params, created_by=current_user.id)
    return redirect(url_for("owner.job", job_id=job.id), code=303)


@bp.get("/reports")
def reports():
    return render_template("owner/reports/index.html", recent_jobs=jobs.recent())


def _job_or_404(job_id: int) -> ExportJob:
    job = ExportJob.get_or_none(ExportJob.id == job_id)
    if job is None or job.kind not in jobs.RUNNERS:
        abort(404)
    return job


@bp.get("/jobs/<int:job_id>")
def job(job_id: int):
    job = _job_or_404(job_id)
    template = "owner/reports/_job.html" if is_htmx() else "owner/reports/job.html"
    return render_template(template, job=job)


@bp.get("/jobs/<int:job_id>/download")
def download_job(job_id: int):
    job = _job_or_404(job_id)
    if job.status != "done" or not job.file_path or not Path(job.file_path).exists():
        abort(404)
    # A report that names customers lists them, so a breach report can find who was exposed.
    named = jobs.customer_ids(job)
    details = {"customer_ids": named} if named else {}
    record_audit(
        "report_exported", target_type="export_job", target_id=job.id, kind=job.kind, **details
    )
    kind_of_file = mimetypes.guess_type(job.filename)[0] or "application/octet-stream"
    response = send_file(
        job.file_path, mimetype=kind_of_file, as_attachment=True, download_name=job.filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response
