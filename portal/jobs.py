"""Background jobs: one mechanism for the whole project (Huey).

A job is an ExportJob row (what to build, its progress, its file) plus a Huey task that builds
it in a worker process, so a report over the whole base never holds up a web worker. The
queue lives in an SQLite file beside the database by default, or in Redis when JOBS_URL is
redis://…; the rows live in the database. Both outlive a restart of the web process.

Run the worker with `huey_consumer portal.jobs.huey` (`make run` starts one). Tests run tasks
inline (JOBS_IMMEDIATE).

A kind of job is a function `run(job, progress) -> Result`, named in RUNNERS; `progress(percent,
step)` records how far it got, for the page that polls it.
"""

import importlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey

from . import id_packing
from .extensions import db
from .i18n import in_language
from .models import ExportJob, utcnow

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUEUE = ROOT / "instance" / "jobs.sqlite3"

# kind → "module:function" building it; imported in the worker when a job of that kind runs.
RUNNERS = {
    "base_summary": "portal.reports.base_summary:run",
    "campaign_send": "portal.campaigns:run",
    "complaint_report": "portal.reports.complaint_report:run",
    "customer_export": "portal.exports:run",
    "import_check": "portal.imports.importer:run_check",
    "import_run": "portal.imports.importer:run_import",
}
# Kinds that make no file: they do their work in the database (imports) or send mail.
KINDS_WITHOUT_FILE = ("campaign_send", "import_check", "import_run")
# Kinds whose file names customers: erasing anyone removes these files (SPEC 6.3). A file about
# one customer is found by ExportJob.customer_id instead.
KINDS_NAMING_CUSTOMERS = ("complaint_report", "customer_export")


@dataclass
class Result:
    content: bytes | None  # the file; None when written to `path`, or for no file at all
    filename: str  # what the download is called, e.g. "summary-2026-11-22.pdf"
    # Figures for a web page, stored as JSON. A file naming customers lists them in
    # "customer_ids", or packed (id_packing) in "customer_ids_packed" when there are many.
    data: dict | None = None
    path: Path | None = None  # a file too big for memory, written to scratch_file(job, …)


Progress = Callable[[int, str], None]


def _queue(url: str):
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey("kartoteka", url=url)
    path = Path(url.removeprefix("sqlite:///")) if url else DEFAULT_QUEUE
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("kartoteka", filename=str(path))


huey = _queue(os.environ.get("JOBS_URL", ""))
huey.kartoteka_url = os.environ.get("JOBS_URL", "")


def configure(app: Flask) -> None:
    """Point the queue where the app's configuration says; tests run tasks inline."""
    url = app.config.get("JOBS_URL", "")
    if url and url != getattr(huey, "kartoteka_url", ""):
        queue = _queue(url)
        # Keep the module's Huey object (tasks are bound to it); take the new storage.
        huey.storage_class, huey.storage_kwargs = queue.storage_class, queue.storage_kwargs
        huey.kartoteka_url = url
        huey.storage = huey.create_storage()
    huey.immediate = bool(app.config.get("JOBS_IMMEDIATE"))


def start(
    kind: str,
    *,
    language: str,
    params: dict | None = None,
    created_by: int | None = None,
    customer_id: int | None = None,
) -> ExportJob:
    """Record a job and queue it; the row is committed before the worker can look for it."""
    if kind not in RUNNERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = ExportJob.create(
        kind=kind,
        params=json.dumps(params or {}),
        language=language,
        created_by=created_by,
        customer_id=customer_id,
    )
    _run_task(job.id)
    return job


@huey.task()
def _run_task(job_id: int) -> None:
    run(job_id)


_startup = threading.Lock()
_resumed_here = False


@huey.on_startup()
def resume_interrupted() -> list[int]:
    """Queue again the jobs a killed worker left behind: "running" ones (their task was already
    off the queue), and "queued" ones whose task is gone (taken off the queue by a worker killed
    before it started the job, or never queued by a web process killed in between).

    Huey calls this as each worker thread starts; only the first looks, since a later one would
    mistake a job an earlier thread has just started for one a killed worker left. A task queued
    twice builds its job once (`_build` claims it). Assumes one consumer process per queue: a
    second consumer starting beside a busy one would also restart the jobs the first is building.
    """
    global _resumed_here
    with _startup:
        if _resumed_here:
            return []
        _resumed_here = True
        return _resume()


def _resume() -> list[int]:
    app = _application()
    resumed = []
    with app.app_context():
        opened = db.connect(reuse_if_open=True)
        try:
            for job in ExportJob.select(ExportJob.id).where(ExportJob.status == "running"):
                taken = (
                    ExportJob.update(status="queued", progress=0, step="", file_path="")
                    .where((ExportJob.id == job.id) & (ExportJob.status == "running"))
                    .execute()
                )
                if taken:
                    _remove_partial_files(app, job.id)
                    resumed.append(job.id)
            waiting = {t.args[0] for t in huey.pending() if isinstance(t, _run_task.task_class)}
            orphans = ExportJob.select(ExportJob.id).where(ExportJob.status == "queued")
            lost = [job.id for job in orphans if job.id not in waiting and job.id not in resumed]
        finally:
            if opened:
                db.close()
    for job_id in resumed:
        log.warning("job %s was cut off by a stopped worker: building it again", job_id)
        _run_task(job_id)
    for job_id in lost:
        log.warning("job %s was queued but its task was lost: queuing it again", job_id)
        _run_task(job_id)
    return resumed + lost


def _remove_partial_files(app: Flask, job_id: int) -> None:
    """Delete what a cut-off run left half-written (scratch_file's names): it names customers,
    and once the job is built again nothing points at it, so nothing else would remove it."""
    for path in exports_folder(app).glob(f"{job_id}-*.part*"):
        path.unlink(missing_ok=True)


def run(job_id: int) -> None:
    """Build one job now, in whichever process calls it (the worker, or a test inline)."""
    with in_worker_context() as app:
        _build(ExportJob.get_by_id(job_id), app)


@contextmanager
def in_worker_context():
    """The app, a request context (url_for, gettext) and a database connection, for work done
    outside a web request: jobs and the scheduled tasks (portal/scheduled.py)."""
    app = _application()
    with app.test_request_context("/"):
        opened = db.connect(reuse_if_open=True)
        try:
            yield app
        finally:
            if opened:
                db.close()


_worker_app: Flask | None = None


def _application() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from . import create_app

        _worker_app = create_app()
    return _worker_app


def _build(job: ExportJob, app: Flask) -> None:
    claimed = (
        ExportJob.update(status="running", started_at=utcnow(), progress=0)
        .where((ExportJob.id == job.id) & (ExportJob.status == "queued"))
        .execute()
    )
    if not claimed:
        return  # built, or being built, by another task for the same job (queued twice)

    def progress(percent: int, step: str = "") -> None:
        ExportJob.update(progress=max(0, min(100, int(percent))), step=step[:200]).where(
            ExportJob.id == job.id
        ).execute()

    try:
        with in_language(job.language):
            result = _runner(job.kind)(job, progress)
        path = _store(app, job, result) if result.content is not None or result.path else ""
    except Exception as error:
        log.exception("job %s (%s) failed", job.id, job.kind)
        ExportJob.update(status="failed", error=repr(error)[:2000], finished_at=utcnow()).where(
            ExportJob.id == job.id
        ).execute()
        return
    ExportJob.update(
        status="done",
        progress=100,
        step="",
        file_path=str(path),
        filename=result.filename,
        result_data=json.dumps(result.data, default=str) if result.data is not None else "",
        finished_at=utcnow(),
    ).where(ExportJob.id == job.id).execute()


def _runner(kind: str):
    module_name, function = RUNNERS[kind].split(":")
    return getattr(importlib.import_module(module_name), function)


def exports_folder(app: Flask) -> Path:
    return Path(app.instance_path) / "exports"


def _store(app: Flask, job: ExportJob, result: Result) -> Path:
    folder = exports_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    # An unguessable name, readable by this user only: the files hold business data.
    path = folder / f"{job.id}-{secrets.token_hex(8)}{Path(result.filename).suffix}"
    if result.path is not None:
        os.chmod(result.path, 0o600)
        os.replace(result.path, path)  # a scratch file is in this folder: only a rename
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(result.content)
    return path


def scratch_file(job: ExportJob, suffix: str) -> Path:
    """A new empty file (this user only) for a runner to write a big result into.

    The job's row points at it while it is written, so an erasure meanwhile removes it (the
    job then fails) and so does one after a worker was killed halfway.
    """
    folder = exports_folder(_application())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job.id}-{secrets.token_hex(8)}.part{suffix}"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    ExportJob.update(file_path=str(path)).where(ExportJob.id == job.id).execute()
    return path


def params(job: ExportJob) -> dict:
    return json.loads(job.params or "{}")


def result_data(job: ExportJob) -> dict | None:
    return json.loads(job.result_data) if job.result_data else None


def customer_ids(job: ExportJob) -> list[int]:
    """The customers a job's file names (for the download's audit event), if any."""
    data = result_data(job) or {}
    if data.get("customer_ids_packed"):
        return id_packing.unpack(data["customer_ids_packed"])
    return list(data.get("customer_ids") or ())


def latest_done(kind: str) -> ExportJob | None:
    return (
        ExportJob.select()
        .where((ExportJob.kind == kind) & (ExportJob.status == "done"))
        .order_by(ExportJob.finished_at.desc(), ExportJob.id.desc())
        .first()
    )


def recent(limit: int = 20) -> list[ExportJob]:
    return list(
        ExportJob.select()
        .where(ExportJob.kind.in_([k for k in RUNNERS if k not in KINDS_WITHOUT_FILE]))
        .order_by(ExportJob.id.desc())
        .limit(limit)
    )


# The scheduler's periodic tasks register on `huey` when their module is imported.
from . import scheduled  # noqa: E402,F401
