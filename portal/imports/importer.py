"""An import from upload to undo: the steps the owner's pages take, and the background jobs.

    job = receive(stream, "customers.csv", staff_id)        # stored, headings read, mapping suggested
    save_choices(job, mapping, options)                      # the owner's mapping and options
    start_check(job, language)                               # background: preview and problems
    start_import(job, language)                               # background: prepare and apply
    undo(job, staff_id)                                      # portal/imports/undo.py

ImportJob.status: uploaded → checking → checked → importing → done → undone, or failed or
cancelled. The uploaded file is kept (this user only, under an unguessable name) until the
import ends — done, failed or cancelled — and then deleted; only its name, size and SHA-256
stay. Uploads never imported are cancelled after a day.
"""

import hashlib
import json
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from .. import audit, jobs, settings
from ..extensions import db
from ..models import ExportJob, ImportJob, SavedMapping, utcnow
from . import staging
from .applying import apply
from .mapping import Mapping, suggest
from .reading import MAX_BYTES, ImportFileError, Table, XlsxTable, open_table, sheet_names
from .staging import ImportOptions, Scratch, Summary

log = logging.getLogger(__name__)

KEEP_UNFINISHED = timedelta(days=1)
FINISHED = ("done", "failed", "cancelled", "undone")
SAMPLE_ROWS = 3
CHUNK = 1 << 20


class ImportStateError(ValueError):
    """The import is not at a step where this can be done (e.g. importing twice)."""


# --- Files ---------------------------------------------------------------------------------


def uploads_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _scratch_path(job: ImportJob) -> Path:
    return Path(f"{job.file_path}.work.sqlite3")


def _progress_path(job: ImportJob) -> Path:
    return Path(f"{job.file_path}.progress")


def _remove_files(job: ImportJob) -> None:
    """Delete the upload and its scratch file; the job keeps name, size and checksum."""
    if job.file_path:
        for path in (Path(job.file_path), _scratch_path(job), _progress_path(job)):
            path.unlink(missing_ok=True)
        ImportJob.update(file_path="").where(ImportJob.id == job.id).execute()
        job.file_path = ""


def file_format_of(filename: str) -> str:
    return "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv"


def receive(stream, filename: str, staff_id: int | None) -> ImportJob:
    """Store an uploaded file and read its headings; ImportFileError (nothing kept) if unreadable.

    `stream` is a binary file object (the upload). The mapping is suggested from the headings,
    or taken from a saved mapping made for the same headings.
    """
    expire_unfinished()
    limit = current_app.config.get("IMPORT_MAX_BYTES", MAX_BYTES)
    name = os.path.basename(filename.replace("\\", "/")).strip()[:255] or "import.csv"
    path = uploads_folder() / f"{secrets.token_hex(12)}{Path(name).suffix.lower()[:8]}"
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ImportFileError(
                        "too_large", size=-(-size // 1_048_576), limit=max(1, limit // 1_048_576)
                    )
                digest.update(chunk)
                out.write(chunk)
        file_format = file_format_of(name)
        with open_table(path, file_format=file_format, max_bytes=limit) as table:
            headers = table.headers
            file_format = "xlsx" if isinstance(table, XlsxTable) else "csv"
            detected = _detected(table)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    mapping = suggest(headers, saved_for(headers))
    options = ImportOptions(
        default_region=settings.get("default_phone_region") or "PL",
        default_currency=settings.get("currency") or "",
        consent=_suggested_consent(mapping),
    )
    job = ImportJob.create(
        created_by=staff_id,
        filename=name,
        file_format=file_format,
        file_path=str(path),
        file_size=size,
        checksum=digest.hexdigest(),
        source=mapping.source,
        mapping=json.dumps(mapping.to_dict(), ensure_ascii=False),
        options=json.dumps({**options.to_dict(), "detected": detected}, ensure_ascii=False),
    )
    audit.record(
        "import_uploaded",
        actor_type="staff" if staff_id else "system",
        actor_id=staff_id,
        target_type="import",
        target_id=job.id,
        size=size,
        file_format=file_format,
    )
    return job


def _detected(table: Table) -> dict:
    return {
        "encoding": getattr(table, "encoding", ""),
        "delimiter": getattr(table, "delimiter", ""),
    }


def _suggested_consent(mapping: Mapping) -> dict[str, str]:
    """A purpose coded e-mail/SMS marketing takes the file's "accepts … marketing" column."""
    from ..models import ConsentPurpose

    chosen = set(mapping.columns.values())
    suggested = {}
    for purpose in ConsentPurpose.select().where(ConsentPurpose.active):
        for column, hint in (
            ("accepts_email_marketing", "email"),
            ("accepts_sms_marketing", "sms"),
        ):
            if column in chosen and hint in purpose.code.lower():
                suggested[str(purpose.id)] = f"column:{column}"
    return suggested


def expire_unfinished(now=None) -> int:
    """Cancel uploads left unimported for a day, deleting their files."""
    limit = (now or utcnow()) - KEEP_UNFINISHED
    stale = list(
        ImportJob.select().where(
            ImportJob.status.in_(("uploaded", "checked")) & (ImportJob.created_at < limit)
        )
    )
    for job in stale:
        _remove_files(job)
        ImportJob.update(status="cancelled", finished_at=utcnow()).where(
            ImportJob.id == job.id
        ).execute()
    return len(stale)


# --- What the pages show -------------------------------------------------------------------


def options_of(job: ImportJob) -> ImportOptions:
    return ImportOptions.from_dict(json.loads(job.options or "{}"))


def detected_of(job: ImportJob) -> dict:
    return json.loads(job.options or "{}").get("detected") or {}


def mapping_of(job: ImportJob) -> Mapping:
    return Mapping.from_dict(json.loads(job.mapping or "{}"))


def summary_of(job: ImportJob) -> Summary:
    return Summary.from_dict(json.loads(job.report or "{}") if job.report.startswith("{") else {})


def undo_report(job: ImportJob) -> dict:
    data = json.loads(job.report or "{}") if job.report.startswith("{") else {}
    return data.get("undo") or {}


def error_of(job: ImportJob) -> ImportFileError | None:
    """Why the file could not be read with the chosen settings (None if it could)."""
    if not job.error.startswith("{"):
        return None
    data = json.loads(job.error)
    if "code" not in data:
        return None
    return ImportFileError(data["code"], **data.get("params", {}))


def open_file(job: ImportJob, options: ImportOptions | None = None) -> Table:
    """The uploaded file as a table, with the owner's reading options (ImportFileError)."""
    options = options or options_of(job)
    return open_table(
        job.file_path,
        file_format=job.file_format,
        encoding=options.encoding or None,
        delimiter=options.delimiter or None,
        sheet=options.sheet or None,
    )


def columns_with_samples(job: ImportJob, options: ImportOptions | None = None) -> list[dict]:
    """Each heading with the first few values under it, for the mapping form."""
    with open_file(job, options) as table:
        headers = table.headers
        samples = [[] for _ in headers]
        for row, _n in zip(table, range(SAMPLE_ROWS), strict=False):
            for index, value in enumerate(row.values[: len(headers)]):
                if value.strip():
                    samples[index].append(value.strip()[:60])
    return [{"header": h, "samples": s} for h, s in zip(headers, samples, strict=True)]


def sheets_of(job: ImportJob) -> list[str]:
    return sheet_names(job.file_path) if job.file_format == "xlsx" and job.file_path else []


def earlier_imports_of_same_file(job: ImportJob) -> list[ImportJob]:
    """Imports of a file with the same bytes that went through (a re-import is safe, but
    worth knowing about)."""
    return list(
        ImportJob.select()
        .where(
            (ImportJob.checksum == job.checksum)
            & (ImportJob.id != job.id)
            & (ImportJob.status == "done")
        )
        .order_by(ImportJob.id.desc())
    )


def recent(limit: int = 20) -> list[ImportJob]:
    return list(ImportJob.select().order_by(ImportJob.id.desc()).limit(limit))


def progress_job(job: ImportJob) -> ExportJob | None:
    """The background job checking or importing the file."""
    return ExportJob.get_or_none(ExportJob.id == job.job_id) if job.job_id else None


def progress_of(job: ImportJob) -> tuple[int, str]:
    """How far the check or import has got: (percent, what it is doing, translated).

    While the rows are written, the import's transaction holds the database (SQLite lets
    no other writer in, and nothing it writes is visible before it commits), so the writing
    step reports to a small file beside the upload instead of the job's row.
    """
    background = progress_job(job)
    percent, step = (background.progress, background.step) if background else (0, "")
    if job.file_path:
        try:
            written = json.loads(_progress_path(job).read_text())
        except (OSError, ValueError):
            written = None
        if written and written.get("percent", 0) >= percent:
            percent, step = written["percent"], str(written.get("step", ""))
    return percent, step


def _report_to_file(job: ImportJob, percent: int, step: str) -> None:
    path = _progress_path(job)
    partial = path.with_suffix(".progress.part")
    partial.write_text(json.dumps({"percent": percent, "step": step}, ensure_ascii=False))
    os.replace(partial, path)


def all_problems(job: ImportJob):
    """Every problem the last check found (from the scratch file), while the file is kept."""
    path = _scratch_path(job)
    if not job.file_path or not path.exists():
        return
    with Scratch.open(path) as scratch:
        yield from scratch.problems()


# --- Saved mappings -------------------------------------------------------------------------


def saved_mappings() -> list[SavedMapping]:
    return list(SavedMapping.select().order_by(SavedMapping.name))


def saved_for(headers: list[str]) -> Mapping | None:
    """The newest saved mapping that names every one of these headings (and no others)."""
    wanted = set(headers)
    for saved in SavedMapping.select().order_by(SavedMapping.created_at.desc()):
        mapping = Mapping.from_dict(json.loads(saved.mapping))
        if set(mapping.columns) == wanted:
            return mapping
    return None


def save_mapping(name: str, mapping: Mapping, staff_id: int | None) -> SavedMapping:
    """Save (or replace, by name) a mapping for reuse."""
    name = name.strip()[:100]
    data = json.dumps(mapping.to_dict(), ensure_ascii=False)
    with db.atomic():
        existing = SavedMapping.get_or_none(SavedMapping.name == name)
        if existing:
            existing.mapping, existing.source = data, mapping.source
            existing.created_at = utcnow()
            existing.save()
            return existing
        return SavedMapping.create(
            name=name, source=mapping.source, mapping=data, created_by=staff_id
        )


def delete_saved_mapping(saved_id: int) -> bool:
    return bool(SavedMapping.delete().where(SavedMapping.id == saved_id).execute())


# --- Steps ----------------------------------------------------------------------------------


def _require(job: ImportJob, *statuses: str) -> None:
    current = ImportJob.get_by_id(job.id).status
    if current not in statuses:
        raise ImportStateError(f"import {job.id} is {current}, not {' or '.join(statuses)}")


def save_choices(job: ImportJob, mapping: Mapping, options: ImportOptions) -> None:
    """Keep the owner's mapping and options; the file must be checked again with them."""
    _require(job, "uploaded", "checked")
    kept = {**options.to_dict(), "detected": detected_of(job)}
    job.mapping = json.dumps(mapping.to_dict(), ensure_ascii=False)
    job.options = json.dumps(kept, ensure_ascii=False)
    job.source = mapping.source
    job.status, job.error = "uploaded", ""
    job.save(
        only=[
            ImportJob.mapping,
            ImportJob.options,
            ImportJob.source,
            ImportJob.status,
            ImportJob.error,
        ]
    )


def _start(job: ImportJob, kind: str, language: str, staff_id: int | None):
    background = jobs.start(
        kind, language=language, params={"import_id": job.id}, created_by=staff_id
    )
    # Inline (tests) the job has already moved the import on; otherwise point at the job.
    ImportJob.update(job_id=background.id).where(ImportJob.id == job.id).execute()
    return background


def start_check(job: ImportJob, language: str, staff_id: int | None = None) -> ExportJob:
    """Check every row in the background: preview, problems, what would be created."""
    _require(job, "uploaded", "checked")
    ImportJob.update(status="checking", error="").where(ImportJob.id == job.id).execute()
    return _start(job, "import_check", language, staff_id)


def start_import(job: ImportJob, language: str, staff_id: int | None = None) -> ExportJob:
    """Import in the background, leaving out rows with errors (the owner has seen them)."""
    _require(job, "checked")
    claimed = (
        ImportJob.update(status="importing", started_at=utcnow())
        .where((ImportJob.id == job.id) & (ImportJob.status == "checked"))
        .execute()
    )
    if not claimed:
        raise ImportStateError(f"import {job.id} was started already")
    return _start(job, "import_run", language, staff_id)


def cancel(job: ImportJob, staff_id: int | None) -> None:
    """Stop before importing anything: the file is deleted."""
    _require(job, "uploaded", "checked")
    _remove_files(job)
    ImportJob.update(status="cancelled", finished_at=utcnow()).where(
        ImportJob.id == job.id
    ).execute()
    audit.record(
        "import_cancelled",
        actor_type="staff" if staff_id else "system",
        actor_id=staff_id,
        target_type="import",
        target_id=job.id,
    )


# --- Background jobs (portal/jobs.py RUNNERS) -----------------------------------------------


def _import_for(export_job: ExportJob) -> ImportJob:
    return ImportJob.get_by_id(jobs.params(export_job)["import_id"])


def run_check(export_job: ExportJob, progress: jobs.Progress) -> jobs.Result:
    job = _import_for(export_job)
    if job.status != "checking":
        return jobs.Result(None, "")
    step = _("Checking rows")
    try:
        with Scratch.create(_scratch_path(job)) as scratch:
            summary = staging.prepare(
                job.file_path,
                job.file_format,
                mapping_of(job),
                options_of(job),
                scratch,
                lambda fraction: progress(int(fraction * 100), step),
            )
    except ImportFileError as error:
        ImportJob.update(status="uploaded", error=json.dumps(error.to_dict())).where(
            ImportJob.id == job.id
        ).execute()
        return jobs.Result(None, "")
    except Exception as error:
        # Otherwise the import would stay "checking" for good: no step accepts it from there.
        log.exception("check of import %s failed", job.id)
        ImportJob.update(
            status="failed", error=json.dumps({"text": repr(error)})[:4000], finished_at=utcnow()
        ).where(ImportJob.id == job.id).execute()
        _remove_files(job)
        raise
    ImportJob.update(
        status="checked",
        total_rows=summary.rows,
        report=json.dumps(summary.to_dict(), ensure_ascii=False, default=str),
    ).where(ImportJob.id == job.id).execute()
    return jobs.Result(None, "")


def run_import(export_job: ExportJob, progress: jobs.Progress) -> jobs.Result:
    """Prepare the rows again (against the database as it is now), then write them at once."""
    job = _import_for(export_job)
    if job.status != "importing":
        return jobs.Result(None, "")
    options = options_of(job)
    reading, writing = _("Reading and checking rows"), _("Writing customers")
    try:
        with Scratch.create(_scratch_path(job)) as scratch:
            summary = staging.prepare(
                job.file_path,
                job.file_format,
                mapping_of(job),
                options,
                scratch,
                lambda fraction: progress(int(fraction * 50), reading),
            )
            ImportJob.update(total_rows=summary.rows).where(ImportJob.id == job.id).execute()
            progress(50, writing)
            apply(
                job,
                options,
                scratch,
                summary,
                lambda fraction: _report_to_file(job, 50 + int(fraction * 49), writing),
            )
    except Exception as error:
        log.exception("import %s failed", job.id)
        message = error.to_dict() if isinstance(error, ImportFileError) else {"text": repr(error)}
        ImportJob.update(
            status="failed", error=json.dumps(message)[:4000], finished_at=utcnow()
        ).where(ImportJob.id == job.id).execute()
        _remove_files(job)
        raise
    _remove_files(job)
    return jobs.Result(None, "")
