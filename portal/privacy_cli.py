"""flask retention sweep [--apply], flask backup [PATH], flask restore PATH."""

import time

import click
from flask.cli import AppGroup, with_appcontext

retention_cli = AppGroup("retention", help="Retention periods: report and apply.")

REASONS = {
    "lead": "lead, no purchase and no current consent; last activity {since} "
    "(retention for leads: {months} months)",
    "customer": "customer, last purchase {since} (retention for customers: {years} years)",
    "requested": "erasure confirmed by the customer; grace period ended {since}",
}
COUNTED = {"lead": "leads", "customer": "customers", "requested": "confirmed requests"}
ACTIONS = {
    "erase": "would erase",
    "erased": "erased",
    "keep": "kept: erasure on hold for a lawful reason",
    "skipped": "already erased by another run",
}


@retention_cli.command("sweep")
@click.option("--apply", "apply_", is_flag=True, help="Erase what the report finds.")
@click.option("--show", default=20, show_default=True, help="How many findings to list.")
@click.option(
    "--as-of",
    type=click.DateTime(),
    default=None,
    help="Judge as at this UTC time instead of now (to preview a later sweep).",
)
def retention_sweep(apply_, show, as_of):
    """Report who is past their retention period (and with --apply, erase them)."""
    from . import retention

    started = time.perf_counter()
    report = retention.sweep(now=as_of, apply=apply_)
    elapsed = time.perf_counter() - started
    verb = "Erased" if apply_ else "Would erase"
    counts = ", ".join(f"{report.counts[c]} {COUNTED[c]}" for c in retention.CATEGORIES)
    click.echo(f"Retention sweep at {report.now:%Y-%m-%d %H:%M} UTC ({elapsed:.1f} s)")
    click.echo(f"{verb} {report.total}: {counts}; kept on hold: {report.kept}.")
    for finding in report.rows[:show]:
        reason = REASONS[finding.category].format(
            since=f"{finding.since:%Y-%m-%d}",
            months=report.lead_months,
            years=report.customer_years,
        )
        click.echo(f"  customer {finding.customer_id}: {reason} -> {ACTIONS[finding.action]}")
    hidden = report.total + report.kept - min(show, len(report.rows))
    if hidden > 0:
        click.echo(f"  ... and {hidden} more")
    if not apply_ and report.total:
        click.echo("Run with --apply to erase them.")


@click.command("backup")
@with_appcontext
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def backup_command(path):
    """Make a consistent backup of the live database (default: instance/backups/)."""
    from . import backups

    try:
        target = backups.backup(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {target} ({target.stat().st_size:,} bytes).")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path, yes):
    """Replace the live database with a backup, then erase again everyone erased since."""
    from . import backups

    if not yes:
        click.confirm(
            "This replaces every row of the live database with the backup. Stop the "
            "application first. Continue?",
            abort=True,
        )
    try:
        report = backups.restore(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {report.source}.")
    if report.migrations_applied:
        click.echo("Migrations applied: " + ", ".join(report.migrations_applied))
    click.echo(
        f"Erasures made since the backup, applied again: {report.erased} "
        f"({report.erased_by_record} by record, {report.erased_by_contacts} by e-mail or phone; "
        f"{report.tombstones} tombstones read)."
    )
    if report.other_key:
        click.echo(
            f"{report.other_key} tombstones were made with another key (TOMBSTONE_KEY or "
            "SECRET_KEY changed): matched by record id only."
        )
    if report.possible_matches:
        ids = ", ".join(map(str, report.possible_matches))
        click.echo(f"Check by hand, they share some contacts with an erased person: {ids}")


COMMANDS = [retention_cli, backup_command, restore_command]
