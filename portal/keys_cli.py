"""flask keys generate | status | rotate: the keys that encrypt sensitive identifiers."""

import click
from flask.cli import AppGroup

from . import identifiers, two_factor

keys_cli = AppGroup("keys", help="Encryption keys for sensitive identifiers.")
SHOW_FAILED = 20


def _keyring() -> identifiers.Keyring:
    try:
        return identifiers.current_keyring()
    except identifiers.KeyConfigurationError as error:
        raise click.ClickException(str(error)) from None


@keys_cli.command("generate")
def generate():
    """Print a new key; put it first in ENCRYPTION_KEYS, then run `flask keys rotate`."""
    key = identifiers.generate_key()
    click.echo(key)
    click.echo(
        f"Key id {identifiers.key_id(key)}. Put it FIRST in ENCRYPTION_KEYS and keep the old "
        "keys after it, restart the app, then run `flask keys rotate`.",
        err=True,
    )


@keys_cli.command("status")
def status():
    """List the configured keys and how many identifiers each one encrypted."""
    keyring = _keyring()
    usage = identifiers.key_usage()
    for position, key_id in enumerate(keyring.key_ids):
        role = "current" if position == 0 else "old"
        click.echo(f"{key_id}  {role:<8} {usage.pop(key_id, 0)} identifiers")
    for key_id, count in sorted(usage.items()):
        click.echo(f"{key_id}  MISSING  {count} identifiers (this key is not configured)")


@keys_cli.command("rotate")
@click.option("--batch-size", default=200, show_default=True, help="Rows per short transaction.")
def rotate(batch_size):
    """Re-encrypt every identifier under the first key of ENCRYPTION_KEYS.

    Runs while the app serves requests; safe to interrupt and run again.
    """
    keyring = _keyring()
    if batch_size < 1:
        raise click.BadParameter("must be at least 1", param_hint="--batch-size")

    def report(progress):
        done = progress.rotated + len(progress.failed)
        click.echo(f"  {done} of {progress.to_do} done")

    click.echo(f"Re-encrypting identifiers under key {keyring.current_id}...")
    result = identifiers.rotate(batch_size=batch_size, keyring=keyring, on_batch=report)
    secrets_moved = two_factor.rotate_secrets(keyring)
    if secrets_moved:
        click.echo(
            f"Re-encrypted {secrets_moved} two-factor secrets under key {keyring.current_id}."
        )
    if not result.to_do:
        click.echo(f"Nothing to do: every identifier is already under key {result.key_id}.")
        return
    click.echo(f"Re-encrypted {result.rotated} identifiers under key {result.key_id}.")
    if result.failed:
        shown = sorted(result.failed)[:SHOW_FAILED]
        for identifier_id in shown:
            click.echo(f"  {result.failed[identifier_id]}", err=True)
        more = len(result.failed) - len(shown)
        raise click.ClickException(
            f"{len(result.failed)} identifiers could not be re-encrypted"
            + (f" ({more} more not listed)" if more else "")
            + ". Keep every old key in ENCRYPTION_KEYS, fix the cause and run again."
        )
    click.echo("Done. Older keys are no longer needed and can be removed from ENCRYPTION_KEYS.")
