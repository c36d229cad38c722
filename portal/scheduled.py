"""What the job worker does by the clock (Huey's periodic tasks; `huey_consumer` runs them
unless started with --no-periodic). Each has a command for cron as well, for installations
that run no worker: `flask campaigns send-due`, `flask automations run`, `flask forecast`.

Every task is safe to run twice: a campaign starts once (its status is claimed), an automation
sends once per customer and occasion, the forecast is recomputed from scratch.
"""

import logging

from huey import crontab

from .jobs import huey, in_worker_context

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*"))
def send_due_campaigns() -> None:
    from . import campaigns

    with in_worker_context():
        started = campaigns.send_due()
    if started:
        log.info("scheduled campaigns started: %s", started)


@huey.periodic_task(crontab(minute="5"))
def run_automations() -> None:
    from . import automations

    with in_worker_context():
        try:
            automations.run_due()
        except automations.AutomationsBusy:
            # A "Run now" (or a slow earlier run) is sending: it sends what is due.
            log.info("automations: another run is under way; this one is skipped")


@huey.periodic_task(crontab(hour="3", minute="30"))
def refresh_forecast() -> None:
    from . import forecast

    with in_worker_context():
        summary = forecast.refresh()
    log.info("forecast: %s customers, %s at risk", summary.forecast, summary.at_risk)
