"""Owner pages for campaigns (SPEC 4): an e-mail for one consent purpose to a segment or
everyone, with who receives it and who is left out (and why) shown before anything is sent, the
message as a few real recipients would get it, sending now or at a set time, its progress while
it runs and its results afterwards. The rules live in portal/campaigns.py."""

import re
from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from .. import campaigns as campaign_actions
from .. import consent, customer_list, message_content, outbox, settings
from ..business_hours import business_zone
from ..campaigns import CampaignStateError
from ..customer_list import Filters
from ..form_fields import record_id
from ..i18n import select_language
from ..models import Campaign, ExportJob, Segment
from ..staff.list_views import filter_form, filters_of_form
from ..web import is_htmx, record_audit
from . import bp
from .campaign_forms import LIST_FILTERS, CampaignForm, ScheduleForm, SendingSpeedForm
from .export_forms import filters_from

VARY = {"Vary": "HX-Request"}
BEFORE_SENDING = ("draft", "scheduled")
_MAIL_SERVER_ERROR = re.compile(r"MailServerUnavailable\((['\"])(.*)\1\)", re.S)


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = Campaign.get_or_none(Campaign.id == campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _back_to(campaign: Campaign):
    return redirect(url_for("owner.campaign", campaign_id=campaign.id), code=303)


# --- The list and the sending speed ------------------------------------------------------


@bp.get("/campaigns", endpoint="campaigns")
def campaign_index():
    """Every campaign with its figures, and the sending speed."""
    return _index_page(SendingSpeedForm(data={"per_minute": outbox.per_minute()}))


@bp.post("/campaigns/speed")
def campaign_speed():
    """Store how many messages a minute campaigns and automations send."""
    form = SendingSpeedForm()
    if not form.validate_on_submit():
        return _index_page(form, status=422)
    changed = settings.put_changed({"messages_per_minute": form.per_minute.data})
    if changed:
        record_audit("settings_changed", fields=changed)
    flash(
        _(
            "Sending speed saved: %(num)s messages a minute.",
            num=format_decimal(form.per_minute.data),
        ),
        "success",
    )
    return redirect(url_for("owner.campaigns"), code=303)


def _index_page(form: SendingSpeedForm, status: int = 200):
    context = {
        "rows": campaign_actions.listing(),
        "purposes": consent.titles(select_language(), active_only=False),
        "speed_form": form,
        "max_per_minute": outbox.MAX_PER_MINUTE,
    }
    return render_template("owner/campaigns/index.html", **context), status


# --- Composing ---------------------------------------------------------------------------


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new():
    """A new draft; ?filters= (the customer list's) or ?segment= choose whom it is for."""
    form = CampaignForm() if request.method == "POST" else _form_from_query(request.args)
    if form.validate_on_submit():
        campaign = _save(None, form)
        flash(_("Draft saved. Check who receives it and the previews, then send it."), "success")
        return _back_to(campaign)
    return _form_page(form, None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
def campaign_edit(campaign_id: int):
    """Change a draft, or a scheduled campaign (which goes back to being a draft)."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.status not in BEFORE_SENDING:
        flash(_("A campaign that has started sending cannot be changed."), "error")
        return _back_to(campaign)
    form = CampaignForm() if request.method == "POST" else CampaignForm.for_campaign(campaign)
    if form.validate_on_submit():
        try:
            campaign = _save(campaign, form)
        except CampaignStateError:
            flash(_("A campaign that has started sending cannot be changed."), "error")
        else:
            flash(_("Changes saved."), "success")
        return _back_to(campaign)
    return _form_page(form, campaign)


def _form_from_query(args) -> CampaignForm:
    if args.get("filters"):
        if filters_from(args["filters"]) is None:
            abort(404)
        return CampaignForm(formdata=None, filters=args["filters"], customers=LIST_FILTERS)
    segment_id = record_id(args.get("segment"))
    if segment_id and Segment.get_or_none(Segment.id == segment_id):
        return CampaignForm(formdata=None, customers=str(segment_id))
    return CampaignForm(formdata=None)


def _save(campaign: Campaign | None, form: CampaignForm) -> Campaign:
    segment = form.chosen_segment
    return campaign_actions.save_draft(
        campaign,
        name=form.name.data,
        purpose_id=form.purpose_id,
        filters=form.chosen_filters,
        segment_id=segment.id if segment else None,
        content=form.content,
        staff_id=current_user.id,
    )


def _form_page(form: CampaignForm, campaign: Campaign | None):
    list_filters = form.list_filters
    context = {
        "form": form,
        "campaign": campaign,
        "placeholders": message_content.PLACEHOLDERS,
        "list_filters": list_filters,
        "list_size": customer_list.count(list_filters) if list_filters else None,
        "count_cap": customer_list.SEGMENT_COUNT_CAP,
    }
    status = 422 if form.is_submitted() else 200
    return render_template("owner/campaigns/form.html", **context), status


# --- The campaign page -------------------------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    """The campaign: before sending, who receives it, previews and the send actions; while
    sending, its progress (the partial HTMX polls); afterwards, its results."""
    found = _campaign_or_404(campaign_id)
    if is_htmx():
        return render_template("owner/campaigns/_progress.html", **_progress(found)), 200, VARY
    return _campaign_page(found, ScheduleForm(formdata=None, send_at=_local(found.send_at)))


@bp.post("/campaigns/<int:campaign_id>/schedule")
def campaign_schedule(campaign_id: int):
    """Send at a set time, entered in the business's time zone; a past time is refused."""
    found = _campaign_or_404(campaign_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _campaign_page(found, form, status=422)
    try:
        found = campaign_actions.schedule(found, form.send_at_utc, current_user.id)
    except CampaignStateError:
        flash(
            _("Only a draft can be scheduled: this campaign has started or was cancelled."), "error"
        )
    else:
        flash(_("Scheduled. It will be sent at the time you chose."), "success")
    return _back_to(found)


@bp.post("/campaigns/<int:campaign_id>/send")
def campaign_send(campaign_id: int):
    """Send now, to the number of recipients the button stated; if that number has changed
    meanwhile, nothing is sent and the page shows the new one."""
    found = _campaign_or_404(campaign_id)
    if found.status not in BEFORE_SENDING:
        flash(_("This campaign has already been sent or cancelled."), "error")
        return _back_to(found)
    included = campaign_actions.audience(found).included
    if not included:
        flash(_("Nobody would receive this campaign, so nothing was sent."), "error")
    elif request.form.get("recipients", type=int) != included:
        flash(
            _(
                "The number of recipients has changed to %(num)s since the page was shown. "
                "Nothing was sent: check who receives it and send again.",
                num=format_decimal(included),
            ),
            "warning",
        )
    else:
        try:
            campaign_actions.send_now(found, staff_id=current_user.id, language=select_language())
        except CampaignStateError:
            flash(_("This campaign has already been sent or cancelled."), "error")
        else:
            flash(_("Sending has started."), "success")
    return _back_to(found)


@bp.post("/campaigns/<int:campaign_id>/cancel")
def campaign_cancel(campaign_id: int):
    """Take a campaign off the schedule, or stop one sending: unsent messages are not sent."""
    found = _campaign_or_404(campaign_id)
    try:
        campaign_actions.cancel(found, current_user.id)
    except CampaignStateError:
        flash(_("Only a scheduled campaign or one still sending can be cancelled."), "error")
    else:
        flash(_("Cancelled. Messages not sent yet will not be sent."), "success")
    return _back_to(found)


@bp.post("/campaigns/<int:campaign_id>/resume")
def campaign_resume(campaign_id: int):
    """Carry on sending after it stopped (the mail server could not be reached)."""
    found = _campaign_or_404(campaign_id)
    try:
        campaign_actions.resume(found, staff_id=current_user.id, language=select_language())
    except CampaignStateError:
        flash(_("This campaign is not stopped: there is nothing to resume."), "error")
    else:
        flash(_("Sending resumed."), "success")
    return _back_to(found)


@bp.post("/campaigns/<int:campaign_id>/delete")
def campaign_delete(campaign_id: int):
    """Delete a draft (or a campaign cancelled before it sent anything)."""
    found = _campaign_or_404(campaign_id)
    try:
        campaign_actions.delete_draft(found, current_user.id)
    except CampaignStateError:
        flash(_("A campaign that has sent messages stays on record."), "error")
        return _back_to(found)
    flash(_("Campaign “%(name)s” deleted.", name=found.name), "success")
    return redirect(url_for("owner.campaigns"), code=303)


def _campaign_page(found: Campaign, schedule_form: ScheduleForm, status: int = 200):
    before = found.status in BEFORE_SENDING
    filters = campaign_actions.filters_of(found)
    context = {
        "campaign": found,
        "purpose_title": consent.titles(select_language(), active_only=False).get(
            found.purpose_id, ""
        ),
        "filters": filters,
        "everyone": filters == Filters(sort=filters.sort),
        "texts": message_content.parse(found.content),
        "audience": campaign_actions.audience(found) if before else None,
        "previews": campaign_actions.previews(found) if before else None,
        "schedule_form": schedule_form,
        "time_zone": str(business_zone()),
        **({} if before else _progress(found)),
    }
    return render_template("owner/campaigns/campaign.html", **context), status, VARY


def _progress(found: Campaign) -> dict:
    """What the progress partial shows: figures, and whether (and why) sending stopped."""
    figures = campaign_actions.figures(found)
    running = found.status == "sending" and campaign_actions.is_running(found)
    job = ExportJob.get_or_none(ExportJob.id == found.job_id) if found.job_id else None
    unreachable = _MAIL_SERVER_ERROR.search(job.error or "") if job else None
    return {
        "campaign": found,
        "figures": figures,
        "percent": figures.done * 100 // figures.recipients if figures.recipients else 0,
        "running": running,
        "waiting": running and job is not None and job.status == "queued",
        "stopped": found.status == "sending" and not running,
        "mail_server_error": unreachable.group(2) if unreachable else None,
        "failures": campaign_actions.failures(found) if found.status != "sending" else [],
        "left_out": campaign_actions.left_out(found),
    }


def _local(moment: datetime | None) -> datetime | None:
    """A stored naive-UTC time as the datetime-local box shows it (business time zone)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(business_zone()).replace(tzinfo=None)


# --- From the customer list --------------------------------------------------------------


@bp.get("/campaigns/list-link")
def campaign_list_link():
    """The customer list's "Start a campaign" link for its current filters; the list page
    asks for it again (HTMX) whenever it swaps in new results."""
    form = filter_form(request.args)
    form.validate()
    context = {"form": form, "filters": filters_of_form(form) if not form.errors else None}
    return render_template("owner/campaigns/_list_link.html", **context), 200, VARY


@bp.app_template_global()
def campaign_from_list_url(filters: Filters | None) -> str | None:
    """Where the list's "Start a campaign" link goes: a new campaign for the list's filters
    (none for filters the list could not read, which show no one)."""
    if filters is None:
        return None
    if filters == Filters(sort=filters.sort):
        return url_for("owner.campaign_new")  # no filter: everyone
    return url_for("owner.campaign_new", filters=filters.to_json())
