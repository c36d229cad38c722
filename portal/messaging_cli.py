"""Commands for cron, beside the worker's scheduler (portal/scheduled.py)."""

import click
from flask.cli import AppGroup

from . import automations, campaigns, jobs

campaigns_cli = AppGroup("campaigns", help="Campaign e-mails.")


@campaigns_cli.command("send-due")
def send_due():
    """Start the scheduled campaigns whose time has come (the worker sends them)."""
    started = campaigns.send_due()
    click.echo(f"Started {len(started)} scheduled campaign(s).")


automations_cli = AppGroup("automations", help="Automation e-mails (birthdays, thank-yous…).")


@automations_cli.command("run")
def run_automations():
    """Run the active automations now and send what is due (as the worker does hourly)."""
    # A request context, as the worker has: messages carry links (url_for) to unsubscribe.
    with jobs.in_worker_context():
        try:
            summaries = automations.run_due()
        except automations.AutomationsBusy:
            click.echo("Another run is sending automation messages; nothing to do.")
            return
    for summary in summaries:
        click.echo(
            f"{summary.name} (#{summary.automation_id}): {summary.queued} due, "
            f"{summary.sent} sent, {summary.failed} failed, {summary.skipped} skipped, "
            f"{summary.waiting} waiting."
        )
    click.echo(
        f"{len(summaries)} automation(s) run; {sum(s.sent for s in summaries)} message(s) sent."
    )
    errors = {summary.mail_error for summary in summaries if summary.mail_error}
    if errors:
        raise click.ClickException(
            "the mail server could not be reached (" + "; ".join(sorted(errors)) + "): "
            "the messages wait for the next run"
        )


COMMANDS = [campaigns_cli, automations_cli]
