"""The record of processing (GDPR art. 30): the owner's settings it is written from, and its PDF."""

import io

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from .. import processing, settings
from ..i18n import select_language
from ..models import utcnow
from ..reports import processing_record
from ..web import record_audit
from . import bp
from .processing_forms import SETTINGS, ProcessingSettingsForm


@bp.route("/settings/processing", methods=["GET", "POST"])
def processing_settings():
    """Show and save the business details, recipients, transfers and security measures."""
    stored = {key: settings.get(key) for key in SETTINGS.values()}
    form = ProcessingSettingsForm.from_settings(stored)
    if form.validate_on_submit():
        changed = settings.put_changed(form.entered())
        if changed:
            record_audit("settings_changed", fields=changed)
        flash(_("Saved. The record of processing is written from these settings."), "success")
        return redirect(url_for("owner.processing_settings"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "owner/processing_settings.html",
        form=form,
        default_recipients=processing.DEFAULT_RECIPIENTS,
        built_in_measures=processing.BUILT_IN_SECURITY_MEASURES,
    ), status


@bp.get("/reports/processing-record.pdf")
def processing_record_pdf():
    """The record of processing as a PDF, in the language asked for (default: the page's)."""
    language = request.args.get("language") or select_language()
    if language not in current_app.config["LANGUAGES"]:
        abort(404)
    content = processing_record.render_pdf(language)
    record_audit("processing_record_exported", language=language)
    response = send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=processing_record.filename(language, utcnow()),
    )
    response.headers["Cache-Control"] = "no-store"
    return response
