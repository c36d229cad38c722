"""Imports (SPEC 4, issue 8): upload a file, map its columns, check it, import it, undo it.

The steps are portal/imports/importer.py's; these views parse the request and show an import
at the step it has reached. Checking and importing run in the background: the import's page
polls its progress partial every second, and the partial brings in the result when the job
is done.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import consent
from ..customers import display_name
from ..exports import neutralised
from ..form_fields import record_id
from ..i18n import select_language
from ..imports import importer
from ..imports.importer import ImportStateError
from ..imports.mapping import SOURCES, Mapping, detect_source, suggest
from ..imports.problems import Problem
from ..imports.reading import MAX_BYTES, ImportFileError
from ..imports.staging import ImportOptions
from ..imports.undo import undo
from ..models import ImportJob, SavedMapping
from ..web import record_audit
from . import bp
from .import_forms import (
    CONSENT_SOURCES,
    DELIMITERS,
    DUPLICATES,
    ENCODINGS,
    ActionForm,
    MappingForm,
    UploadForm,
    headings_key,
    initial_data,
    mapping_form,
)

EDITABLE = ("uploaded", "checked")  # the mapping can still be changed
RUNNING = ("checking", "importing")
READING_OPTIONS = ("encoding", "delimiter", "sheet")
# Reading errors shown next to the reading option that can fix them.
_READING_FIELD = {
    "decode": "encoding",
    "unknown_encoding": "encoding",
    "no_header": "delimiter",
    "blank_header": "delimiter",
    "duplicate_header": "delimiter",
    "too_many_columns": "delimiter",
    "no_sheet": "sheet",
}


def _import_or_404(import_id: int) -> ImportJob:
    job = ImportJob.get_or_none(ImportJob.id == import_id)
    if job is None:
        abort(404)
    return job


def _to_import_page(job: ImportJob):
    return redirect(url_for("owner.import_page", import_id=job.id), code=303)


# --- Upload ---------------------------------------------------------------------------------


@bp.get("/imports")
def imports():
    """The upload form, recent imports and saved mappings."""
    return _index(UploadForm(formdata=None))


@bp.post("/imports")
def upload_import():
    """Store the uploaded file and go on to its mapping; an unreadable file keeps nothing."""
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = importer.receive(upload.stream, upload.filename or "", current_user.id)
        except ImportFileError as error:
            form.file.errors.append(error.message)
        else:
            return redirect(url_for("owner.import_mapping", import_id=job.id), code=303)
    return _index(form, status=422)


def _index(form: UploadForm, status: int = 200):
    limit = current_app.config.get("IMPORT_MAX_BYTES", MAX_BYTES)
    context = {
        "form": form,
        "recent": importer.recent(),
        "saved": importer.saved_mappings(),
        "action_form": ActionForm(),
        "limit_mb": max(1, limit // 1_048_576),
    }
    return render_template("owner/imports/index.html", **context), status


@bp.post("/imports/mappings/<int:saved_id>/delete")
def delete_saved_mapping(saved_id: int):
    """Forget a saved mapping (imports made with it keep theirs)."""
    if ActionForm().validate_on_submit() and importer.delete_saved_mapping(saved_id):
        flash(_("The saved mapping was deleted."), "success")
    return redirect(url_for("owner.imports"), code=303)


# --- Mapping --------------------------------------------------------------------------------


@bp.get("/imports/<int:import_id>/mapping")
def import_mapping(import_id: int):
    """The columns with samples and a field for each, and the import's options."""
    job = _import_or_404(import_id)
    if job.status not in EDITABLE:
        return _to_import_page(job)
    options = importer.options_of(job)
    columns, problem = _read_columns(job, options)
    headers = [column["header"] for column in columns]
    mapping, notice = importer.mapping_of(job), None
    saved = _saved_mapping(request.args.get("saved", ""))
    if saved is not None:
        mapping = suggest(headers, saved)
    elif set(headers) != set(mapping.columns):
        mapping = suggest(headers, importer.saved_for(headers))
        notice = ImportFileError("headings_changed").message
    problem = problem or importer.error_of(job)
    form = _form(job, headers, data=initial_data(headers, mapping, options, _purposes()))
    return _mapping_page(job, form, columns, problem=problem, notice=notice)


@bp.post("/imports/<int:import_id>/mapping")
def save_import_mapping(import_id: int):
    """Keep the mapping and options and check the file with them; mistakes come back (422)."""
    job = _import_or_404(import_id)
    if job.status not in EDITABLE:
        flash(_("This import has gone past the mapping; it is shown as it is now."), "error")
        return _to_import_page(job)
    stored = importer.options_of(job)
    columns, problem = _read_columns(job, _posted_reading(job, stored))
    headers = [column["header"] for column in columns]
    form, notice = _form(job, headers), None
    rereading = bool(request.form.get("reread"))  # only to see the columns these options give
    if form.headings.data != headings_key(headers):
        # The posted reading options give other headings: choose the columns again.
        options = form.chosen_options(stored)
        mapping = suggest(headers, importer.saved_for(headers))
        form = _form(job, headers, data=initial_data(headers, mapping, options, _purposes()))
        notice = ImportFileError("headings_changed").message
    elif problem is None and not rereading and form.validate_on_submit():
        mapping = form.chosen_mapping()
        importer.save_choices(job, mapping, form.chosen_options(stored))
        if form.save_as.data:
            importer.save_mapping(form.save_as.data, mapping, current_user.id)
        importer.start_check(job, select_language(), current_user.id)
        return _to_import_page(job)
    status = 200 if rereading and problem is None else 422
    return _mapping_page(job, form, columns, problem=problem, notice=notice, status=status)


def _purposes() -> dict[int, str]:
    return consent.titles(select_language())


def _form(job: ImportJob, headers: list[str], data: dict | None = None) -> MappingForm:
    return mapping_form(
        headers,
        _purposes(),
        source=detect_source(headers),
        detected=importer.detected_of(job),
        sheets=importer.sheets_of(job),
        data=data,
    )


def _posted_reading(job: ImportJob, stored: ImportOptions) -> ImportOptions:
    """The stored options with the encoding, delimiter and sheet the form posted, where they
    are ones the form offers (others are refused by the form's validation)."""
    offered = {"encoding": ENCODINGS, "delimiter": DELIMITERS, "sheet": importer.sheets_of(job)}
    posted = {
        name: request.form[name]
        for name in READING_OPTIONS
        if request.form.get(name) == "" or request.form.get(name) in offered[name]
    }
    return ImportOptions.from_dict({**stored.to_dict(), **posted})


def _read_columns(
    job: ImportJob, options: ImportOptions
) -> tuple[list[dict], ImportFileError | None]:
    """The file's columns with sample values as these options read them, and why not if they
    cannot: then the headings alone, or as detected, so that the form can still be shown."""
    try:
        return importer.columns_with_samples(job, options), None
    except ImportFileError as error:
        problem = error
    as_detected = ImportOptions.from_dict(
        {**options.to_dict(), **dict.fromkeys(READING_OPTIONS, "")}
    )
    for attempt in (options, as_detected):
        try:
            with importer.open_file(job, attempt) as table:
                return [{"header": h, "samples": []} for h in table.headers], problem
        except ImportFileError:
            continue
    return [], problem


def _saved_mapping(saved_id: str) -> Mapping | None:
    number = record_id(saved_id)
    saved = SavedMapping.get_or_none(SavedMapping.id == number) if number else None
    return Mapping.from_dict(json.loads(saved.mapping)) if saved else None


def _mapping_page(job, form, columns, *, problem=None, notice=None, status=200):
    if problem is not None and problem.code != "headings_changed":
        target = _READING_FIELD.get(problem.code)
        shown = ("sheet",) if job.file_format == "xlsx" else ("encoding", "delimiter")
        if target in shown:
            form[target].errors = [*form[target].errors, problem.message]
        else:
            form.form_errors.append(problem.message)
    earlier = importer.earlier_imports_of_same_file(job)
    context = {
        "job": job,
        "form": form,
        "rows": list(zip(columns, form.column_fields(), strict=True)),
        "notice": notice,
        "earlier": earlier[0] if earlier else None,
        "saved": importer.saved_mappings(),
        "duplicates": DUPLICATES,
        "sources": SOURCES,
    }
    return render_template("owner/imports/mapping.html", **context), status


# --- The import's page ----------------------------------------------------------------------


@bp.get("/imports/<int:import_id>")
def import_page(import_id: int):
    """The import at its step: progress, the check's report, the result, or what went wrong."""
    job = _import_or_404(import_id)
    if job.status == "uploaded":
        return redirect(url_for("owner.import_mapping", import_id=job.id), code=303)
    return render_template("owner/imports/import.html", **_status_context(job))


@bp.get("/imports/<int:import_id>/progress")
def import_progress(import_id: int):
    """The status partial the page polls; once the job is done it is the next step's."""
    job = _import_or_404(import_id)
    if job.status == "uploaded":  # the check could not read the file: back to the mapping
        response = make_response("")
        response.headers["HX-Redirect"] = url_for("owner.import_mapping", import_id=job.id)
        return response
    return render_template("owner/imports/_status.html", **_status_context(job))


def _status_context(job: ImportJob) -> dict:
    summary = importer.summary_of(job)
    options = importer.options_of(job)
    percent, step = importer.progress_of(job) if job.status in RUNNING else (0, "")
    titles = consent.titles(select_language(), active_only=False)
    error = importer.error_of(job) if job.status == "failed" else None
    return {
        "job": job,
        "summary": summary,
        "percent": percent,
        "step": step,
        "problems": [Problem.from_dict(data) for data in summary.problems],
        "preview": [_shown(row) for row in summary.preview],
        "consent_rules": [
            (titles.get(int(pid), pid), CONSENT_SOURCES.get(source, source))
            for pid, source in options.consent.items()
            if source and pid.isdigit()
        ],
        "options": options,
        "duplicates": DUPLICATES,
        "undone": importer.undo_report(job),
        "error": error.message if error else None,
        "action_form": ActionForm(),
    }


def _shown(row: dict) -> dict:
    """A preview row with its name and contacts as they will be shown."""
    name = display_name(row.get("given_name", ""), row.get("family_name", ""), row["name_order"])
    return {
        **row,
        "name": name,
        "emails_shown": ", ".join(shown for shown, _key in row.get("emails") or []),
        "phones_shown": ", ".join(shown for shown, _e164 in row.get("phones") or []),
    }


# --- Problems as CSV ------------------------------------------------------------------------


@bp.get("/imports/<int:import_id>/problems.csv")
def import_problems_csv(import_id: int):
    """Every problem found, in the owner's language; cells that look like formulas defused."""
    job = _import_or_404(import_id)
    record_audit("import_problems_downloaded", target_type="import", target_id=job.id)
    filename = f"import-{job.id}-problems.csv"
    return Response(
        stream_with_context(_problem_lines(_problems_of(job))),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _problems_of(job: ImportJob) -> Iterator[Problem]:
    """All problems while the checked file is kept; the report's first 1,000 afterwards."""
    if job.status == "checked":
        kept = importer.all_problems(job)
        first = next(kept, None)
        if first is not None:
            yield first
            yield from kept
            return
    for data in importer.summary_of(job).problems:
        yield Problem.from_dict(data)


def _problem_lines(problems: Iterable[Problem]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    severity = {"error": _("Error"), "warning": _("Warning")}
    writer.writerow([_("Row"), _("Column"), _("Severity"), _("Value"), _("Message")])
    yield "\ufeff" + _drain(buffer)
    for problem in problems:
        writer.writerow(
            [
                problem.row_number,
                neutralised(problem.column_header),
                severity.get(problem.severity, problem.severity),
                neutralised(str(problem.params.get("value", ""))),
                neutralised(str(problem.message)),
            ]
        )
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# --- Start, cancel, undo --------------------------------------------------------------------


def _flash_moved_on() -> None:
    flash(
        _("This import is no longer at a step where that can be done; here it is as it is now."),
        "error",
    )


@bp.post("/imports/<int:import_id>/start")
def start_import(import_id: int):
    """Import the checked rows (those with errors are left out) in the background."""
    job = _import_or_404(import_id)
    if ActionForm().validate_on_submit():
        try:
            importer.start_import(job, select_language(), current_user.id)
        except ImportStateError:
            _flash_moved_on()
    return _to_import_page(job)


@bp.post("/imports/<int:import_id>/cancel")
def cancel_import(import_id: int):
    """Stop before importing anything; the uploaded file is deleted."""
    job = _import_or_404(import_id)
    if ActionForm().validate_on_submit():
        try:
            importer.cancel(job, current_user.id)
        except ImportStateError:
            _flash_moved_on()
        else:
            flash(
                _("The import was stopped and the file deleted. Nothing was imported."), "success"
            )
    return _to_import_page(job)


@bp.post("/imports/<int:import_id>/undo")
def undo_import(import_id: int):
    """Undo a finished import; records changed since it are kept."""
    job = _import_or_404(import_id)
    if ActionForm().validate_on_submit():
        try:
            undo(job, current_user.id)
        except ImportStateError:
            _flash_moved_on()
        else:
            flash(_("The import was undone."), "success")
    return _to_import_page(job)
