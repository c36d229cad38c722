"""Consent: each active purpose in the customer's language, given or withdrawn with one click.

Each click is a consent event with channel self_service, recorded by the customer. With HTMX
the purpose's card is swapped in place; without JavaScript the form posts and the page reloads.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import consent
from ..i18n import select_language
from ..web import client_address, is_htmx
from . import bp
from .details_forms import ConsentChoiceForm
from .session import current_customer


def _purposes(customer_id: int) -> list[dict]:
    """Each active purpose with its current wording (in the page's language) and state."""
    language = select_language()
    versions = consent.current_versions()
    result = []
    for state in consent.states(customer_id, language):
        version = versions.get(state.purpose_id, 0)
        result.append(
            {
                "id": state.purpose_id,
                "state": state.state,
                "version": version,
                "wording": consent.wording(state.purpose_id, version, language),
                "since": state.event.occurred_at if state.event else None,
            }
        )
    return result


@bp.get("/consent", endpoint="consent")
def consent_page():
    customer = current_customer()
    return render_template(
        "customer/consent.html", purposes=_purposes(customer.id), form=ConsentChoiceForm()
    )


@bp.post("/consent/<int:purpose_id>")
def change_consent(purpose_id: int):
    customer = current_customer()
    form = ConsentChoiceForm()
    if not form.validate_on_submit():
        abort(400)
    if purpose_id not in consent.titles(select_language()):
        abort(404)  # not an active purpose
    granted = form.granted.data == "1"
    current = consent.latest_events(customer.id).get(purpose_id)
    # A second click on the same choice (two tabs, a double click) records nothing new.
    if current is None or current.granted != granted:
        try:
            consent.record(
                customer.id,
                purpose_id,
                granted=granted,
                wording_version=form.version.data,
                channel="self_service",
                recorded_by_type="customer",
                ip_address=client_address(),
            )
        except consent.ConsentError:
            abort(400)  # a wording version the purpose never had
    if is_htmx():
        purpose = next(p for p in _purposes(customer.id) if p["id"] == purpose_id)
        return render_template(
            "customer/_consent_purpose.html", purpose=purpose, form=form, changed=True
        )
    flash(_("Your consent is given.") if granted else _("Your consent is withdrawn."), "success")
    return redirect(url_for("customer.consent"), code=303)
