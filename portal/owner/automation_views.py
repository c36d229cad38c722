"""Owner pages for automations: rules that e-mail customers on an occasion (issue 10)."""

import time

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import automations, consent, message_content
from ..customer_list import Filters
from ..i18n import select_language
from ..models import Automation, Segment, utcnow
from . import bp
from .automation_forms import KEEP_FILTERS, KIND_LABELS, ActiveForm, AutomationForm, RunForm

# "Run now" sends within the request for this long; what is left goes with the next hourly run.
RUN_NOW_SECONDS = 20


def _automation_or_404(automation_id: int) -> Automation:
    automation = Automation.get_or_none(Automation.id == automation_id)
    if automation is None:
        abort(404)
    return automation


def _form(automation: Automation | None) -> AutomationForm:
    titles = consent.titles(select_language(), active_only=False)
    offered = consent.titles(select_language())
    if automation is not None and automation.purpose_id in titles:
        offered.setdefault(automation.purpose_id, titles[automation.purpose_id])
    keep_label = None
    if automation is not None and _narrowed_without_segment(automation):
        keep_label = _("The customers chosen before (no saved segment matches them now)")
    segments = Segment.select(Segment.id, Segment.name).order_by(Segment.name)
    return AutomationForm(
        purposes=list(offered.items()),
        segments=[(segment.id, segment.name) for segment in segments],
        keep_label=keep_label,
        today=automations.local_date(utcnow()),
        saved_event_date=automation.event_date if automation else None,
    )


def _fill(form: AutomationForm, automation: Automation) -> None:
    form.name.data = automation.name
    form.kind.data = automation.kind
    form.days.data = automation.days if automation.kind in automations.NEEDS_DAYS else None
    form.event_date.data = automation.event_date
    form.purpose.data = str(automation.purpose_id or "")
    segment = automations.segment_matching(automation)
    if segment is not None:
        form.segment.data = str(segment.id)
    elif automations.is_narrowed(automation):
        form.segment.data = KEEP_FILTERS
    form.fill_content(automation.content)


def _chosen_filters(form: AutomationForm, automation: Automation | None) -> Filters | None:
    """The filters the segment choice stands for; None for everyone. ValueError when the
    chosen segment is gone or holds filters that cannot be read."""
    choice = form.segment.data
    if not choice:
        return None
    if choice == KEEP_FILTERS:
        return automations.filters_of(automation)
    segment = Segment.get_or_none(Segment.id == int(choice))
    if segment is None:
        raise ValueError("the segment is gone")
    return Filters.from_json(segment.filters)


def _narrowed_without_segment(automation: Automation) -> bool:
    """Its customers were narrowed by a segment since changed or deleted: offer to keep them."""
    return automations.is_narrowed(automation) and automations.segment_matching(automation) is None


def _save(form: AutomationForm, automation: Automation | None):
    """Save a valid form; the automation, or None with a message beside the segment field."""
    try:
        filters = _chosen_filters(form, automation)
    except ValueError:
        form.segment.errors.append(_("This segment cannot be used. Choose another."))
        return None
    return automations.save(
        automation,
        name=form.name.data,
        kind=form.kind.data,
        purpose_id=form.purpose_id,
        filters=filters,
        days=form.days.data or 0,
        event_date=form.event_date.data,
        content=form.content,
        staff_id=current_user.id,
    )


def _render_form(form: AutomationForm, automation: Automation | None):
    context = {
        "form": form,
        "automation": automation,
        "placeholders": message_content.PLACEHOLDERS,
    }
    status = 422 if form.errors else 200
    return render_template("owner/automations/edit.html", **context), status


@bp.get("/automations", endpoint="automations")
def automation_index():
    """Every automation with what it has sent."""
    return render_template(
        "owner/automations/index.html",
        listing=automations.listing(),
        kind_labels=KIND_LABELS,
        purpose_titles=consent.titles(select_language(), active_only=False),
    )


@bp.route("/automations/new", methods=["GET", "POST"])
def automation_new():
    """Write a new automation."""
    form = _form(None)
    if not form.is_submitted():
        form.purpose.data = form.purpose.choices[0].value  # the first purpose, if there is one
    if form.validate_on_submit():
        automation = _save(form, None)
        if automation is not None:
            flash(_("Automation saved. It runs every hour while it is active."), "success")
            return redirect(url_for("owner.automation", automation_id=automation.id), code=303)
    return _render_form(form, None)


@bp.route("/automations/<int:automation_id>/edit", methods=["GET", "POST"])
def automation_edit(automation_id: int):
    """Change an automation; what it sent so far stays on record."""
    automation = _automation_or_404(automation_id)
    form = _form(automation)
    if not form.is_submitted():
        _fill(form, automation)
    if form.validate_on_submit() and _save(form, automation) is not None:
        flash(_("Automation saved."), "success")
        return redirect(url_for("owner.automation", automation_id=automation.id), code=303)
    return _render_form(form, automation)


@bp.get("/automations/<int:automation_id>")
def automation(automation_id: int):
    """The rule in words, its figures and the last messages it sent."""
    automation = _automation_or_404(automation_id)
    context = {
        "automation": automation,
        "kind_labels": KIND_LABELS,
        "purpose_title": consent.titles(select_language(), active_only=False).get(
            automation.purpose_id
        ),
        "purpose_active": bool(automation.purpose_id and automation.purpose.active),
        "segment": automations.segment_matching(automation),
        "narrowed": automations.is_narrowed(automation),
        "texts": message_content.parse(automation.content),
        "figures": automations.figures(automation),
        "reach": automations.reach(automation),
        "messages": automations.recent_messages(automation),
        "today": automations.local_date(utcnow()),
        "catch_up_days": automations.CATCH_UP_DAYS,
        "active_form": ActiveForm(),
        "run_form": RunForm(),
    }
    return render_template("owner/automations/automation.html", **context)


@bp.post("/automations/<int:automation_id>/active")
def automation_active(automation_id: int):
    """Pause or resume an automation."""
    automation = _automation_or_404(automation_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    automations.set_active(automation, active, current_user.id)
    if active:
        flash(_("Automation resumed. It runs again every hour."), "success")
    else:
        flash(_("Automation paused. It sends nothing until you resume it."), "success")
    return redirect(url_for("owner.automation", automation_id=automation.id), code=303)


@bp.post("/automations/<int:automation_id>/run")
def automation_run(automation_id: int):
    """Run one automation now instead of waiting for the hourly run."""
    automation = _automation_or_404(automation_id)
    if not RunForm().validate_on_submit():
        abort(400)
    if not automation.active:
        flash(_("Resume the automation before running it."), "warning")
        return redirect(url_for("owner.automation", automation_id=automation.id), code=303)
    deadline = time.monotonic() + RUN_NOW_SECONDS
    try:
        summaries = automations.run_due(
            automation_id=automation.id, keep_going=lambda: time.monotonic() < deadline
        )
    except automations.AutomationsBusy:
        flash(
            _("Automations are running right now. Look again in a few minutes."),
            "warning",
        )
    else:
        for summary in summaries:
            _flash_run(summary)
    return redirect(url_for("owner.automation", automation_id=automation.id), code=303)


def _flash_run(summary: automations.RunSummary) -> None:
    if summary.mail_error:
        flash(
            _(
                "The mail server could not be reached: %(count)d messages wait and go out "
                "with the next run.",
                count=summary.waiting,
            ),
            "error",
        )
    flash(
        ngettext(
            "Run finished: %(num)d customer was due; %(sent)d sent, %(failed)d failed, "
            "%(skipped)d skipped.",
            "Run finished: %(num)d customers were due; %(sent)d sent, %(failed)d failed, "
            "%(skipped)d skipped.",
            summary.queued,
            sent=summary.sent,
            failed=summary.failed,
            skipped=summary.skipped,
        ),
        "success",
    )
    if summary.waiting and not summary.mail_error:
        flash(
            _("%(count)d more wait and go out with the next hourly run.", count=summary.waiting),
            "warning",
        )
