"""Flask commands: flask db upgrade, flask create-owner, flask demo."""

import secrets
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import accounts, forecast, migrations, passwords, rfm
from .config import read_or_create_secret
from .extensions import db
from .models import StaffAccount

db_cli = AppGroup("db", help="Database schema migrations.")


@db_cli.command("upgrade")
@click.option("--target", default=None, help="Stop after this migration.")
def db_upgrade(target):
    """Apply pending migrations."""
    applied = migrations.upgrade(db, target)
    click.echo("Applied: " + ", ".join(applied) if applied else "The database is up to date.")


@db_cli.command("downgrade")
@click.option("--target", default=None, help="Revert back through this migration.")
def db_downgrade(target):
    """Revert the latest migration (or back through --target)."""
    reverted = migrations.downgrade(db, target)
    click.echo("Reverted: " + ", ".join(reverted) if reverted else "Nothing to revert.")


@db_cli.command("status")
def db_status():
    """List migrations and whether each is applied."""
    for migration in migrations.runner(db).status():
        click.echo(f"{'applied' if migration.applied else 'pending'}  {migration.name}")


@click.command("create-owner")
@with_appcontext
@click.argument("email")
@click.option("--name", default="Owner", show_default=True)
@click.password_option(help="Asked for when not given.")
def create_owner(email, name, password):
    """Create an owner account."""
    try:
        accounts.create_staff(name, email, password, role="owner")
    except accounts.AccountExists:
        raise click.ClickException(f"An account for {email} already exists.") from None
    click.echo(f"Owner {email} created.")


@click.command("demo")
@with_appcontext
@click.option(
    "--customers", default=1000, show_default=True, help="How many customers to generate."
)
@click.option("--seed", default=1, show_default=True, help="Same seed, same people.")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing when the database already has customers."
)
def demo(customers, seed, if_empty):
    """Fill the database with generated demo customers and their history."""
    from . import demo as demo_data
    from . import demo_messages
    from .models import Customer

    # Accounts first, so generated purchases and complaints can name a staff member.
    credentials = demo_accounts(Path(current_app.instance_path))
    if if_empty and Customer.select().exists():
        click.echo("Demo data skipped: the database already has customers.")
    else:
        started = time.perf_counter()
        counts = demo_data.generate(customers=customers, seed=seed)
        elapsed = time.perf_counter() - started
        # Tiers as the shop would have them after its nightly `flask rfm` (lists, summary).
        counts["customers in tiers"] = rfm.compute()
        counts["customers at risk"] = forecast.refresh().at_risk  # as after the nightly run
        counts.update(demo_messages.add())
        summary = ", ".join(f"{n} {name}" for name, n in counts.items())
        engine = current_app.config["DATABASE_URL"].split(":")[0]
        click.echo(f"Generated {summary} in {elapsed:.1f} s ({engine}).")
    for role, email, password in credentials:
        click.echo(f"Demo {role}: {email}  password: {password}")


def demo_accounts(instance: Path) -> list[tuple[str, str, str]]:
    """Demo owner and staff sign-ins, with passwords generated once into the instance folder."""
    credentials = []
    for role, email in (("owner", "owner@demo.example"), ("staff", "staff@demo.example")):
        password = read_or_create_secret(
            instance / f"demo-{role}-password", lambda: secrets.token_urlsafe(12)
        )
        account = StaffAccount.by_email(email).first()
        if account is None:
            accounts.create_staff(f"Demo {role.title()}", email, password, role=role)
        elif not passwords.verify(account.password_hash, password):
            # The password file was replaced: keep the printed password the one that works.
            account.password_hash = passwords.hash_password(password)
            account.save(only=[StaffAccount.password_hash])
        credentials.append((role, email, password))
    return credentials


@click.command("rfm")
@with_appcontext
def rfm_command():
    """Compute RFM scores and tiers (A, B, C) for all customers."""
    started = time.perf_counter()
    scored = rfm.compute()
    click.echo(f"Scored {scored} customers in {time.perf_counter() - started:.1f} s.")


@click.command("forecast")
@with_appcontext
def forecast_command():
    """Recompute each customer's expected next purchase and churn-risk flag."""
    started = time.perf_counter()
    summary = forecast.refresh()
    click.echo(
        f"Forecast {summary.forecast} customers, {summary.at_risk} at risk, "
        f"in {time.perf_counter() - started:.1f} s."
    )


def register_commands(app) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(create_owner)
    app.cli.add_command(demo)
    app.cli.add_command(rfm_command)
    app.cli.add_command(forecast_command)
    from .audit_cli import audit_cli
    from .keys_cli import keys_cli
    from .messaging_cli import COMMANDS as messaging_commands
    from .privacy_cli import COMMANDS as privacy_commands

    app.cli.add_command(audit_cli)
    app.cli.add_command(keys_cli)
    for command in privacy_commands + messaging_commands:
        app.cli.add_command(command)
