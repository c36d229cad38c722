"""flask audit verify: walk the hash chain and name the first event that does not hold."""

import time

import click
from flask.cli import AppGroup

from . import audit

audit_cli = AppGroup("audit", help="The audit trail.")

PROBLEMS = {
    audit.EDITED: "its hash does not match its contents: the event was edited after it was "
    "recorded",
    audit.UNLINKED: "its prev_hash does not match the hash of the event before it: an event "
    "was removed or inserted just before this one",
}


@audit_cli.command("verify")
@click.option("--batch-size", default=5000, show_default=True, help="Events read per query.")
def verify(batch_size):
    """Check that no audit event was edited, removed or inserted."""
    started = time.perf_counter()
    result = audit.verify(batch_size=batch_size)
    elapsed = time.perf_counter() - started
    if result.ok:
        click.echo(f"OK: {result.checked} events checked in {elapsed:.1f} s, the chain is intact.")
        if result.last_hash:
            # The chain cannot show a cut-off tail by itself; a hash kept elsewhere can.
            click.echo(f"Last hash: {result.last_hash} (keep it to compare with a later run)")
        return
    click.echo(
        f"BROKEN at event {result.broken_id} (recorded {result.broken_at} UTC): "
        f"{PROBLEMS[result.problem]}.\n"
        f"{result.checked} events before it are intact.",
        err=True,
    )
    raise SystemExit(1)
