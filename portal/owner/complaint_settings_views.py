"""The owner's settings for complaint clocks: opening hours, holidays, response times."""

from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import settings
from ..business_hours import SEVERITIES
from ..web import record_audit
from . import bp
from .complaint_settings_forms import SEVERITY_LABELS, WEEKDAYS, ComplaintSettingsForm

KEYS = ("opening_hours", "holidays", "complaint_response_hours")


@bp.route("/settings/complaints", methods=["GET", "POST"])
def complaint_settings():
    """Show and save the settings the complaint due dates are counted from."""
    stored = {key: settings.get(key) for key in KEYS}
    form = ComplaintSettingsForm.from_settings(*stored.values())
    if form.validate_on_submit():
        entered = {
            "opening_hours": form.opening_hours,
            "holidays": form.holiday_dates,
            "complaint_response_hours": form.response_hours,
        }
        changed = settings.put_changed(entered)
        if changed:
            record_audit("settings_changed", fields=changed)
        flash(_("Complaint settings saved. New due dates follow them."), "success")
        return redirect(url_for("owner.complaint_settings"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "owner/complaint_settings.html",
        form=form,
        weekdays=[(day, _weekday_name(day)) for day in WEEKDAYS],
        severities=[(severity, SEVERITY_LABELS[severity]) for severity in SEVERITIES],
    ), status


def _weekday_name(weekday: int) -> str:
    # Babel's day names follow the page's language; Monday is 0 there as here.
    name = get_locale().days["format"]["wide"][weekday]
    return name[:1].upper() + name[1:]
