"""Owner pages for consent: purposes with versioned wording, and contact lists for a purpose."""

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from .. import consent, contact_lists
from ..i18n import select_language
from ..models import ConsentPurpose, Segment, utcnow
from ..web import client_address, is_htmx
from . import bp
from .consent_forms import (
    CONTACT_CHANNELS,
    ActiveForm,
    ContactListForm,
    PurposeForm,
    WordingVersionForm,
)

VARY = {"Vary": "HX-Request"}


def _purpose_or_404(purpose_id: int) -> ConsentPurpose:
    purpose = ConsentPurpose.get_or_none(ConsentPurpose.id == purpose_id)
    if purpose is None:
        abort(404)
    return purpose


# --- Purposes and wording ----------------------------------------------------------------


@bp.route("/consent")
def consent_purposes():
    """Consent purposes with their current version and titles in each language."""
    return render_template(
        "owner/consent/index.html",
        summaries=consent.purpose_summaries(),
        languages=consent.LANGUAGES,
        active_form=ActiveForm(),
    )


@bp.route("/consent/new", methods=["GET", "POST"])
def new_consent_purpose():
    """Add a purpose with version 1 of its wording."""
    form = PurposeForm()
    if form.validate_on_submit():
        try:
            purpose = consent.create_purpose(
                form.code.data, form.texts, actor_id=current_user.id, ip_address=client_address()
            )
        except consent.PurposeExists:
            form.code.errors.append(_("A purpose with this code already exists."))
        else:
            flash(_("Purpose added. Staff can record consent for it now."), "success")
            return redirect(url_for("owner.consent_purpose", purpose_id=purpose.id), code=303)
    status = 422 if form.errors else 200
    return render_template("owner/consent/new.html", form=form), status


@bp.route("/consent/<int:purpose_id>", methods=["GET", "POST"])
def consent_purpose(purpose_id: int):
    """A purpose's version history, and its wording to edit into a new version."""
    purpose = _purpose_or_404(purpose_id)
    history = consent.version_history(purpose.id)
    form = WordingVersionForm()
    if not form.is_submitted() and history:
        form.fill_from(history[0][1])
    if form.validate_on_submit():
        try:
            version = consent.new_version(
                purpose.id, form.texts, actor_id=current_user.id, ip_address=client_address()
            )
        except consent.WordingUnchanged:
            form.form_errors.append(_("Change the wording before saving a new version."))
        else:
            flash(
                _("Version %(number)d saved. Earlier versions stay as they were.", number=version),
                "success",
            )
            return redirect(url_for("owner.consent_purpose", purpose_id=purpose.id), code=303)
    status = 422 if form.errors or form.form_errors else 200
    context = {
        "purpose": purpose,
        "history": history,
        "form": form,
        "active_form": ActiveForm(),
        "title": consent.titles(select_language(), active_only=False).get(purpose.id),
        "languages": consent.LANGUAGES,
    }
    return render_template("owner/consent/purpose.html", **context), status


@bp.route("/consent/<int:purpose_id>/active", methods=["POST"])
def set_consent_purpose_active(purpose_id: int):
    """Stop asking for a purpose, or start again; events and wording are kept either way."""
    purpose = _purpose_or_404(purpose_id)
    if ActiveForm().validate_on_submit():
        active = request.form.get("active") == "1"
        consent.set_active(
            purpose.id, active, actor_id=current_user.id, ip_address=client_address()
        )
        flash(
            _("Purpose reactivated.") if active else _("Purpose deactivated. Its history stays."),
            "success",
        )
    return redirect(url_for("owner.consent_purposes"), code=303)


# --- Contact lists -----------------------------------------------------------------------


def _contact_list_form(**kwargs) -> ContactListForm:
    form = ContactListForm(**kwargs)
    form.purpose.choices = [
        SelectChoice(str(pid), title) for pid, title in consent.titles(select_language()).items()
    ]
    form.segment.choices = [SelectChoice("", _("All customers"))] + [
        SelectChoice(str(segment.id), segment.name)
        for segment in Segment.select(Segment.id, Segment.name).order_by(Segment.name)
    ]
    return form


def _chosen(form: ContactListForm):
    purpose = ConsentPurpose.get_by_id(int(form.purpose.data))
    segment = Segment.get_by_id(int(form.segment.data)) if form.segment.data else None
    return purpose, form.channel.data, segment


@bp.route("/contact-lists")
def contact_list():
    """Choose a purpose, segment and channel; see who is on the list and who is left out."""
    asked = "purpose" in request.args
    form = _contact_list_form(formdata=request.args if asked else None, meta={"csrf": False})
    preview = None
    if asked and form.validate():
        preview = contact_lists.preview(*_chosen(form))
    context = {
        "form": form,
        "preview": preview,
        "download_form": _contact_list_form(formdata=request.args if asked else None),
        "channels": CONTACT_CHANNELS,
    }
    status = 422 if asked and form.errors else 200
    template = (
        "owner/consent/_contact_list_preview.html"
        if is_htmx()
        else "owner/consent/contact_list.html"
    )
    return render_template(template, **context), status, VARY


@bp.route("/contact-lists/export", methods=["POST"])
def export_contact_list():
    """The list as CSV: only customers whose current consent covers the purpose. Audited."""
    form = _contact_list_form()
    if not form.validate_on_submit():
        context = {
            "form": form,
            "preview": None,
            "download_form": form,
            "channels": CONTACT_CHANNELS,
        }
        return render_template("owner/consent/contact_list.html", **context), 422
    purpose, channel, segment = _chosen(form)
    lines = contact_lists.export(
        purpose, channel, segment, actor_id=current_user.id, ip_address=client_address()
    )
    filename = f"contacts-{purpose.code}-{channel}-{utcnow():%Y%m%d}.csv"
    # The request (and its database connection) stays open until the last row is sent.
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
