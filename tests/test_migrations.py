"""Migrations build the whole schema, and a later migration alters a table that holds data."""

import pytest
from playhouse.schema_diff import diff_models

from portal import migrations
from portal.db import database_from_url, is_postgresql
from portal.models import ALL_MODELS
from tests.conftest import ENGINES, scratch_postgresql_url


@pytest.fixture(params=ENGINES)
def empty_database(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'fresh.db'}"
        if request.param == "sqlite"
        else scratch_postgresql_url("kartoteka_migration_test")
    )
    database = database_from_url(url)
    yield database
    database.close_all()


def columns(database, table):
    return {c.name: c for c in database.get_columns(table)}


def test_migrations_build_exactly_the_models_schema(empty_database):
    applied = migrations.upgrade(empty_database)
    assert applied[:3] == ["0001_initial", "0002_staff_preferred_language", "0003_customer_search"]
    drift = diff_models(empty_database, ALL_MODELS)
    # The search index is engine-specific SQL (an expression index), not a model declaration.
    drift = drift._replace(
        drop_indexes=[i for i in drift.drop_indexes if i.name != "customer_search_tokens"]
    )
    assert not drift, f"models and migrations disagree:\n{drift}"
    assert migrations.pending(empty_database) == []


def test_later_migrations_keep_the_triggers_of_earlier_ones(empty_database):
    """A migration that rebuilds a table on SQLite (Peewee's way of adding NOT NULL) drops the
    table's triggers: customer search would stop following edits, the audit log stop refusing
    them."""
    migrations.upgrade(empty_database)
    if is_postgresql(empty_database):
        triggers = {
            row[0]
            for row in empty_database.execute_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            )
        }
        assert "audit_event_append_only" in triggers
        return
    triggers = {
        row[0]
        for row in empty_database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    assert {
        "customer_search_insert",
        "customer_search_delete",
        "customer_search_update",
        "audit_event_no_update",
        "audit_event_no_delete",
    } <= triggers


def test_upgrade_is_idempotent(empty_database):
    migrations.upgrade(empty_database)
    assert migrations.upgrade(empty_database) == []


def test_second_migration_alters_a_table_that_holds_data(empty_database):
    migrations.upgrade(empty_database, target="0001_initial")
    assert "preferred_language" not in columns(empty_database, "staff_account")
    empty_database.execute_sql(
        "INSERT INTO staff_account (name, email, role, password_hash, active, created_at) "
        "VALUES ('Zofia Łęcka', 'zofia@example.com', 'owner', 'x', TRUE, '2026-01-02 03:04:05')"
    )
    empty_database.execute_sql(
        "INSERT INTO customer (given_name, family_name, name_order, display_name, company, "
        "preferred_channel, preferred_language, gender, note, source, source_detail, external, "
        "tier, tier_manual, rfm_score, lifetime_value, purchase_count, created_at, updated_at, "
        "last_activity_at) VALUES ('伟', '张', 'family_first', '张伟', '', 'email', 'zh', '', '', "
        "'in_store', '', FALSE, '', FALSE, '', 12.5, 1, '2026-01-02', '2026-01-02', '2026-01-02')"
    )

    assert migrations.upgrade(empty_database, target="0002_staff_preferred_language") == [
        "0002_staff_preferred_language"
    ]

    row = empty_database.execute_sql(
        "SELECT name, email, preferred_language FROM staff_account"
    ).fetchone()
    assert tuple(row) == ("Zofia Łęcka", "zofia@example.com", None)
    customer = empty_database.execute_sql("SELECT display_name FROM customer").fetchone()
    assert customer[0] == "张伟"

    # and back down, keeping the rows
    assert migrations.downgrade(empty_database) == ["0002_staff_preferred_language"]
    assert "preferred_language" not in columns(empty_database, "staff_account")
    names = empty_database.execute_sql("SELECT name FROM staff_account").fetchall()
    assert [n[0] for n in names] == ["Zofia Łęcka"]


def test_flask_db_upgrade_command_applies_everything(tmp_path):
    from portal import create_app
    from tests.conftest import base_config

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    app = create_app(base_config(url), instance_path=str(tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "0001_initial" in result.output and "0003_customer_search" in result.output
    again = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert "up to date" in again.output
    database = database_from_url(url)
    assert migrations.pending(database) == []
    database.close_all()


def test_every_migration_reverts_and_reapplies(empty_database):
    applied = migrations.upgrade(empty_database)
    reverted = migrations.downgrade(empty_database, target=applied[0])
    assert reverted == list(reversed(applied))
    assert migrations.upgrade(empty_database) == applied
    assert not diff_models(empty_database, ALL_MODELS).create_tables
