"""The profile's consent section: current consent per purpose, its history, and a form to
record a grant or withdrawal (inline with HTMX, or a plain POST and a 303 without it)."""

from types import SimpleNamespace

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import consent
from ..i18n import select_language
from ..web import client_address, customer_or_404, is_htmx
from . import bp
from .consent_forms import CHANNELS, DECISIONS, STATES, ConsentForm
from .profile_forms import focus_first_error

PARTS = "staff/customers/"
VARY = {"Vary": "HX-Request"}
LABELS = SimpleNamespace(channels=CHANNELS, states=STATES, decisions=DECISIONS)


def profile_context(customer) -> dict:
    """What the profile page needs for this section (with a refused form, when there is one)."""
    return {"consent_panel": _panel(customer, g.get("consent_form"))}


@bp.route("/customers/<int:customer_id>/consent", methods=["POST"])
def record_consent(customer_id: int):
    """Record a grant or withdrawal, or (show_wording) show the text of the chosen version."""
    customer = customer_or_404(customer_id)
    form = _form()
    if request.form.get("show_wording"):
        form.show_current_wording()
        return _form_again(customer, form, status=200)
    if not form.validate_on_submit():
        return _form_again(customer, form, status=422)
    try:
        event = consent.record(
            customer.id,
            form.purpose_id,
            granted=form.granted,
            wording_version=form.version,
            channel=form.channel.data,
            evidence=form.evidence.data,
            staff_id=current_user.id,
            ip_address=client_address(),
        )
    except consent.ConsentError:
        # The purpose was deactivated or reworded while the form was open.
        form.purpose.errors.append(
            _("This purpose or its wording changed meanwhile. Check the form and record again.")
        )
        return _form_again(customer, form, status=422)
    if not is_htmx():
        return redirect(url_for("staff.customer_profile", customer_id=customer.id), code=303)
    context = _context(customer, _panel(customer, None))
    return render_template(PARTS + "_consent_recorded.html", **context, event=event), 200, VARY


def _form(formdata=True) -> ConsentForm:
    kwargs = {} if formdata is True else {"formdata": formdata}
    return ConsentForm(
        titles=consent.titles(select_language()), versions=consent.all_versions(), **kwargs
    )


def _form_again(customer, form: ConsentForm, *, status: int):
    """The form with its messages (or the wording asked for): the partial, else the profile."""
    focus_first_error(form)
    if not is_htmx():
        # The profile page is built by profile_views; it asks profile_context for this form.
        from .profile_views import _profile_page

        g.consent_form = form
        return _profile_page(customer, status=status)
    panel = _panel(customer, form)
    return render_template(PARTS + "_consent_form.html", **_context(customer, panel)), status, VARY


def _panel(customer, form: ConsentForm | None) -> SimpleNamespace:
    language = select_language()
    form = form or _form(formdata=None)
    read_out = None
    if form.purpose_id and form.version:
        read_out = consent.wording(form.purpose_id, form.version, customer.preferred_language)
    return SimpleNamespace(
        states=consent.states(customer.id, language),
        history=consent.history(customer.id),
        titles=consent.titles(language, active_only=False),
        form=form,
        read_out=read_out,
        labels=LABELS,
    )


def _context(customer, panel) -> dict:
    return {"customer": customer, "consent_panel": panel}
