"""Commands for cron, beside the worker's scheduler (portal/scheduled.py)."""

import click
from flask.cli import AppGroup

from . import campaigns

campaigns_cli = AppGroup("campaigns", help="Campaign e-mails.")


@campaigns_cli.command("send-due")
def send_due():
    """Start the scheduled campaigns whose time has come (the worker sends them)."""
    started = campaigns.send_due()
    click.echo(f"Started {len(started)} scheduled campaign(s).")


COMMANDS = [campaigns_cli]
