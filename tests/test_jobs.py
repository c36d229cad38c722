"""Background jobs (issue 7): a report queued while no worker runs waits, and a worker started
later (as after a restart of the web process) builds it; the job page polls while the job is
under way, stops once it is done and offers the download; a failed job says so."""

import io
import re
import time

from flask_babel import force_locale, gettext
from pypdf import PdfReader

from portal import jobs
from portal.models import AuditEvent, ExportJob
from tests.factories import make_customer
from tests.job_worker import wait_for_job

POLLING = 'data-hx-trigger="every 1s"'


def translated(app, english: str, **values) -> str:
    with app.test_request_context(), force_locale("en"):
        return gettext(english, **values)


def request_summary(client) -> int:
    """Press the button on the summary page; returns the id of the job it queued."""
    page = client.get("/owner/reports/summary").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/owner/reports/summary", data={"csrf_token": token})
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_summary_queued_without_a_worker_is_built_by_a_worker_started_later(
    app, owner_client, job_worker
):
    make_customer("Anna", "Nowak")
    job_id = request_summary(owner_client)

    time.sleep(1)  # nobody is listening: the job waits in the queue
    assert ExportJob.get_by_id(job_id).status == "queued"
    page = owner_client.get(f"/owner/jobs/{job_id}").get_data(as_text=True)
    assert POLLING in page
    assert translated(app, "Waiting for the worker…") in page
    assert "/download" not in page

    job_worker.start()  # the worker of a restarted site finds the job in the queue
    job = wait_for_job(job_id)
    assert job.status == "done", job.error

    fragment = owner_client.get(f"/owner/jobs/{job_id}", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert POLLING not in html
    assert "<html" not in html  # HTMX asked for the fragment only
    assert f'href="/owner/jobs/{job_id}/download"' in html

    with owner_client.get(f"/owner/jobs/{job_id}/download") as download:
        assert download.status_code == 200
        assert download.mimetype == "application/pdf"
        assert job.filename in download.headers["Content-Disposition"]
        body = download.data
    reader = PdfReader(io.BytesIO(body))
    assert reader.metadata.title == translated(app, "Customer-base summary")
    assert AuditEvent.select().where(AuditEvent.action == "report_exported").count() == 1

    summary_page = owner_client.get("/owner/reports/summary").get_data(as_text=True)
    assert '<figure class="chart">' in summary_page  # the web page shows what the worker made


def test_the_job_page_polls_while_the_job_runs(app, owner_client, owner):
    job = ExportJob.create(
        kind="base_summary",
        status="running",
        progress=40,
        step="Adding up purchases",
        created_by=owner.id,
    )
    for headers in ({}, {"HX-Request": "true"}):
        html = owner_client.get(f"/owner/jobs/{job.id}", headers=headers).get_data(as_text=True)
        assert POLLING in html
        assert re.search(r'<progress[^>]*value="40"', html)
        assert "Adding up purchases" in html
        assert "/download" not in html


def broken_report(job, progress):
    progress(10, "Counting")
    raise RuntimeError("the disk is full")


def test_a_failed_job_says_so_on_its_page(app, owner_client, monkeypatch):
    monkeypatch.setitem(jobs.RUNNERS, "base_summary", f"{__name__}:broken_report")
    job_id = request_summary(owner_client)
    job = ExportJob.get_by_id(job_id)
    assert job.status == "failed"
    assert "the disk is full" in job.error  # for the server's log, not the page

    html = owner_client.get(f"/owner/jobs/{job_id}").get_data(as_text=True)
    assert (
        translated(
            app,
            "This report could not be made. Try again; if it fails again, the server's log says why.",
        )
        in html
    )
    assert POLLING not in html
    assert "the disk is full" not in html
    assert owner_client.get(f"/owner/jobs/{job_id}/download").status_code == 404


def test_a_job_cut_off_by_a_killed_worker_is_built_again_by_the_next_worker(app, job_worker):
    # What SIGKILL leaves behind: the worker took the task off the queue and marked the job
    # running, then died. Nothing would ever pick it up again.
    make_customer("Anna", "Nowak")
    job = ExportJob.create(kind="base_summary", language="en", status="running", progress=40)

    job_worker.start()
    job = wait_for_job(job.id)
    assert job.status == "done", job.error
    assert job.file_path and job.progress == 100
