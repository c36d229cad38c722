"""Campaigns: an owner's e-mail to the customers of a list for one consent purpose.

Whom it reaches is decided by contact_lists (SPEC 6 rule 2): the list's customers whose
*current* consent covers the purpose and who have an e-mail address. The owner sees who is left
out and why before sending. Sending fixes the recipients (one OutgoingMessage per customer,
occasion "campaign:<id>") and hands them to a background job (kind "campaign_send"), which
portal/outbox.py works through, throttled; a job cut off by a restart carries on where it was.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from peewee import JOIN, chunked, fn

from . import audit, contact_lists, jobs, outbox
from .customer_list import Filters
from .db import write_transaction
from .extensions import db
from .models import (
    Campaign,
    ConsentPurpose,
    Customer,
    ExportJob,
    OutgoingMessage,
    Segment,
    utcnow,
)

INSERT_BATCH = 500
PREVIEWS_PER_LANGUAGE = 2
PREVIEW_CANDIDATES = 400  # recipients looked at to find a few in each language


class CampaignStateError(ValueError):
    """The campaign is not in a state that allows this (e.g. editing one already sent)."""


def occasion(campaign: Campaign) -> str:
    return f"campaign:{campaign.id}"


def filters_of(campaign: Campaign) -> Filters:
    return Filters.from_json(campaign.filters)


# --- Drafts -------------------------------------------------------------------------------


def save_draft(
    campaign: Campaign | None,
    *,
    name: str,
    purpose_id: int,
    filters: Filters,
    segment_id: int | None,
    content: str,
    staff_id: int | None,
) -> Campaign:
    """Create a draft, or change one that has not started sending (scheduled goes back to draft)."""
    if campaign is not None and campaign.status not in ("draft", "scheduled"):
        raise CampaignStateError("only a draft or a scheduled campaign can be changed")
    fields = {
        "name": name,
        "purpose": purpose_id,
        "filters": filters.to_json(),
        "segment": segment_id,
        "content": content,
    }
    with write_transaction(db):
        if campaign is None:
            campaign = Campaign.create(created_by=staff_id, **fields)
            action = "campaign_created"
        else:
            Campaign.update(status="draft", send_at=None, **fields).where(
                Campaign.id == campaign.id
            ).execute()
            campaign = Campaign.get_by_id(campaign.id)
            action = "campaign_changed"
        audit.record(
            action,
            actor_type="staff",
            actor_id=staff_id,
            target_type="campaign",
            target_id=campaign.id,
        )
    return campaign


def delete_draft(campaign: Campaign, staff_id: int | None) -> None:
    if campaign.status not in ("draft", "scheduled", "cancelled") or campaign.messages.exists():
        raise CampaignStateError("a campaign that has sent messages stays on record")
    with write_transaction(db):
        campaign.delete_instance()
        audit.record(
            "campaign_deleted",
            actor_type="staff",
            actor_id=staff_id,
            target_type="campaign",
            target_id=campaign.id,
        )


# --- Who it reaches -----------------------------------------------------------------------


def audience(campaign: Campaign) -> contact_lists.Preview:
    """How many it would reach now, and how many are left out for each reason."""
    return contact_lists.preview(campaign.purpose, "email", filters=filters_of(campaign))


@dataclass
class PreviewMessage:
    customer: Customer
    language: str
    subject: str
    body: str


def previews(campaign: Campaign, per_language: int = PREVIEWS_PER_LANGUAGE) -> list[PreviewMessage]:
    """The message as a few real recipients would get it, up to `per_language` in each of the
    languages they would get it in. The unsubscribe link is a sample that unsubscribes no one."""
    ids = []
    for customer_id in contact_lists.included_ids(
        campaign.purpose, "email", filters=filters_of(campaign)
    ):
        ids.append(customer_id)
        if len(ids) >= PREVIEW_CANDIDATES:
            break
    shown: dict[str, int] = {}
    result = []
    sample_link = outbox.sample_unsubscribe_url()
    for customer in Customer.select().where(Customer.id.in_(ids)).order_by(Customer.id):
        rendered = outbox.render(campaign.content, campaign.purpose_id, customer, sample_link)
        if shown.get(rendered.language, 0) >= per_language:
            continue
        shown[rendered.language] = shown.get(rendered.language, 0) + 1
        result.append(PreviewMessage(customer, rendered.language, rendered.subject, rendered.body))
    return sorted(result, key=lambda p: p.language)


# --- Sending ------------------------------------------------------------------------------


def schedule(campaign: Campaign, send_at: datetime, staff_id: int | None) -> Campaign:
    """Send at a set time (naive UTC); the scheduler starts it (send_due)."""
    if campaign.status not in ("draft", "scheduled"):
        raise CampaignStateError("only a draft can be scheduled")
    with write_transaction(db):
        Campaign.update(status="scheduled", send_at=send_at).where(
            Campaign.id == campaign.id
        ).execute()
        audit.record(
            "campaign_scheduled",
            actor_type="staff",
            actor_id=staff_id,
            target_type="campaign",
            target_id=campaign.id,
            send_at=send_at.isoformat(),
        )
    return Campaign.get_by_id(campaign.id)


def send_now(campaign: Campaign, *, staff_id: int | None, language: str) -> Campaign:
    """Fix the recipients and queue the sending job."""
    # Claimed and its recipients fixed together: a crash in between leaves it as it was.
    with write_transaction(db):
        claimed = (
            Campaign.update(status="sending", started_at=utcnow())
            .where((Campaign.id == campaign.id) & Campaign.status.in_(("draft", "scheduled")))
            .execute()
        )
        if not claimed:
            raise CampaignStateError("the campaign has already been sent or cancelled")
        campaign = Campaign.get_by_id(campaign.id)
        fix_recipients(campaign, staff_id=staff_id)
    return _start_job(campaign, staff_id=staff_id, language=language)


def fix_recipients(campaign: Campaign, *, staff_id: int | None = None) -> int:
    """One queued message per customer the campaign reaches now, and the left-out counts."""
    counts = audience(campaign)
    recipients = list(
        contact_lists.included_ids(campaign.purpose, "email", filters=filters_of(campaign))
    )
    with write_transaction(db):
        for batch in chunked(recipients, INSERT_BATCH):
            OutgoingMessage.insert_many(
                [
                    {
                        "customer": customer_id,
                        "campaign": campaign.id,
                        "purpose": campaign.purpose_id,
                        "occasion": occasion(campaign),
                        "created_at": utcnow(),
                    }
                    for customer_id in batch
                ]
            ).on_conflict_ignore().execute()
        Campaign.update(left_out=json.dumps(counts.left_out_counts())).where(
            Campaign.id == campaign.id
        ).execute()
        audit.record(
            "campaign_started",
            actor_type="staff" if staff_id else "system",
            actor_id=staff_id,
            target_type="campaign",
            target_id=campaign.id,
            recipients=len(recipients),
            left_out=counts.left_out_counts(),
        )
    return len(recipients)


def resume(campaign: Campaign, *, staff_id: int | None, language: str) -> Campaign:
    """Queue the sending job again after it stopped (the mail server was unreachable)."""
    if campaign.status != "sending" or is_running(campaign):
        raise CampaignStateError("only a stopped campaign can be resumed")
    return _start_job(campaign, staff_id=staff_id, language=language)


def _start_job(campaign: Campaign, *, staff_id: int | None, language: str) -> Campaign:
    job = jobs.start(
        "campaign_send",
        language=language,
        params={"campaign_id": campaign.id},
        created_by=staff_id,
    )
    Campaign.update(job_id=job.id).where(Campaign.id == campaign.id).execute()
    return Campaign.get_by_id(campaign.id)


def is_running(campaign: Campaign) -> bool:
    job = ExportJob.get_or_none(ExportJob.id == campaign.job_id) if campaign.job_id else None
    return bool(job and not job.finished)


def cancel(campaign: Campaign, staff_id: int | None) -> Campaign:
    """Stop a scheduled campaign, or one sending: messages not yet sent are not sent."""
    if campaign.status not in ("scheduled", "sending"):
        raise CampaignStateError("only a scheduled or sending campaign can be cancelled")
    with write_transaction(db):
        Campaign.update(status="cancelled", finished_at=utcnow()).where(
            Campaign.id == campaign.id
        ).execute()
        OutgoingMessage.update(status="skipped", reason="campaign cancelled").where(
            (OutgoingMessage.campaign == campaign.id) & (OutgoingMessage.status == "queued")
        ).execute()
        audit.record(
            "campaign_cancelled",
            actor_type="staff",
            actor_id=staff_id,
            target_type="campaign",
            target_id=campaign.id,
        )
    return Campaign.get_by_id(campaign.id)


def send_due(now: datetime | None = None) -> list[int]:
    """Start every scheduled campaign whose time has come (the scheduler, `flask campaigns
    send-due`). Returns their ids."""
    now = now or utcnow()
    started = []
    due = Campaign.select().where((Campaign.status == "scheduled") & (Campaign.send_at <= now))
    for campaign in due:
        try:
            send_now(campaign, staff_id=None, language=_owner_language(campaign))
        except CampaignStateError:
            continue  # started by another run meanwhile
        started.append(campaign.id)
    return started


def _owner_language(campaign: Campaign) -> str:
    author = campaign.created_by
    return (author.preferred_language if author else None) or "en"


def run(job, progress) -> jobs.Result:
    """The "campaign_send" job: send what is still to send, then mark the campaign sent."""
    campaign = Campaign.get_by_id(jobs.params(job)["campaign_id"])
    pending = outbox.pending_ids(
        OutgoingMessage.select().where(OutgoingMessage.campaign == campaign.id)
    )

    def report(done: int, total: int) -> None:
        progress(done * 100 // total, _("Sent %(done)d of %(total)d", done=done, total=total))

    delivery = outbox.deliver(pending, progress=report, keep_going=lambda: _still_sending(campaign))
    outbox.audit_sent("campaign", campaign.id, delivery)
    Campaign.update(status="sent", finished_at=utcnow()).where(
        (Campaign.id == campaign.id) & (Campaign.status == "sending")
    ).execute()
    return jobs.Result(content=None, filename="", data=figures(campaign).as_dict())


def _still_sending(campaign: Campaign) -> bool:
    return (
        Campaign.select()
        .where((Campaign.id == campaign.id) & (Campaign.status == "sending"))
        .exists()
    )


# --- Results ------------------------------------------------------------------------------


@dataclass
class Figures:
    recipients: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    unsubscribed: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped


def figures_of(query) -> Figures:
    """Counts by status, and unsubscribes, over a query of OutgoingMessage rows."""
    return figures_by(query, None).get(None, Figures())


def figures_by(query, column) -> dict:
    """Figures per value of `column` (e.g. OutgoingMessage.campaign) in one grouped query;
    column None: one Figures for the whole query, under the key None."""
    keys = [column] if column is not None else []
    rows = (
        query.select(
            *keys,
            OutgoingMessage.status,
            fn.COUNT(OutgoingMessage.id),
            fn.COUNT(OutgoingMessage.unsubscribed_at),
        )
        .group_by(*keys, OutgoingMessage.status)
        .tuples()
    )
    result: dict = {}
    for row in rows:
        owner = row[0] if keys else None
        status, count, unsubscribed = row[-3:]
        figures = result.setdefault(owner, Figures())
        figures.recipients += count
        figures.unsubscribed += unsubscribed
        name = "queued" if status in outbox.PENDING else status
        setattr(figures, name, getattr(figures, name) + count)
    return result


def figures(campaign: Campaign) -> Figures:
    return figures_of(OutgoingMessage.select().where(OutgoingMessage.campaign == campaign.id))


def left_out(campaign: Campaign) -> dict[str, int]:
    return json.loads(campaign.left_out or "{}")


def failures(campaign: Campaign, limit: int = 50) -> list[OutgoingMessage]:
    return list(
        OutgoingMessage.select(OutgoingMessage, Customer)
        .join(Customer)
        .where((OutgoingMessage.campaign == campaign.id) & (OutgoingMessage.status == "failed"))
        .order_by(OutgoingMessage.id)
        .limit(limit)
    )


def listing() -> list[tuple[Campaign, Figures]]:
    """Every campaign, newest first, with its figures."""
    campaigns = list(
        Campaign.select(Campaign, ConsentPurpose, Segment)
        .join(ConsentPurpose)
        .switch(Campaign)
        .join(Segment, JOIN.LEFT_OUTER)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )
    counted = figures_by(OutgoingMessage.select(), OutgoingMessage.campaign)
    return [(campaign, counted.get(campaign.id, Figures())) for campaign in campaigns]
