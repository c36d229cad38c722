"""Backups are consistent copies of a live database, and a restore erases again everyone
erased after the backup was made (SPEC 4, SPEC 6.3, issue 4 "Done when")."""

import json
import os
import shutil
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from portal import backups, erasure, history, search
from portal.models import ContactPoint, Customer, ErasureTombstone
from portal.privacy_cli import backup_command, restore_command
from tests.factories import make_customer
from tests.test_erasure import found_in_bytes, rows_holding, sqlite_path

NEEDLES = ["Wawrzyniec", "Qlobuczy", "qlobucz", "wq@example.org", "48602771939", "0602771939"]


@pytest.fixture(autouse=True)
def pg_tools(engine):
    if engine == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")


def person_and_other():
    person = make_customer(
        "Wawrzyniec", "Qlobuczyński", email="wq@example.org", phone="+48602771939", tags=["vip"]
    )
    history.record_interaction(
        person,
        occurred_at=person.created_at,
        direction="in",
        channel="call",
        summary="Wawrzyniec asked about oolong",
    )
    other = make_customer("Bronisława", "Żółtkiewicz", email="bz@example.net")
    return person, other


def test_restore_erases_again_whoever_was_erased_after_the_backup(app, engine):
    with app.app_context():
        person, other = person_and_other()
        path = backups.backup()
        assert path.parent == Path(app.instance_path) / "backups"
        erasure.erase(person.id)
        assert rows_holding(NEEDLES) == []

        report = backups.restore(path)

    assert (report.erased_by_record, report.erased_by_contacts) == (1, 0)
    assert rows_holding(NEEDLES) == []
    assert Customer.get_by_id(person.id).erased_at is not None
    # Everyone else came back as they were in the backup.
    assert [m.id for m in search.find("żółtk").customers] == [other.id]
    assert ContactPoint.get(ContactPoint.customer == other.id).value == "bz@example.net"
    assert ErasureTombstone.select().where(ErasureTombstone.trigger == "restore").count() == 1
    if engine == "sqlite":
        assert found_in_bytes(app, NEEDLES) == []
        assert found_in_bytes(app, ["Żółtkiewicz"]) == ["Żółtkiewicz"]


def test_without_the_tombstone_file_the_restore_brings_the_person_back(app):
    # What the tombstone file is for: restoring alone resurrects erased data.
    with app.app_context():
        person, _other = person_and_other()
        path = backups.backup()
        erasure.erase(person.id)
        erasure.Ledger.current().path.unlink()
        report = backups.restore(path)
    assert report.erased == 0
    assert Customer.get_by_id(person.id).erased_at is None
    assert rows_holding(["wq@example.org"])


def test_a_record_is_matched_by_its_contacts_alone(app):
    with app.app_context():
        person, other = person_and_other()
        partly = make_customer("Somebody", "Else", email="wq@example.org", phone="+48501330472")
        ledger = erasure.Ledger.current()
        # A tombstone from elsewhere (another id): the person's e-mail and phone only.
        line = {
            "v": 1,
            "customer_id": 99_999,
            "erased_at": "2026-01-01T00:00:00",
            "record": "0" * 64,
            "contacts": [
                ledger.contact_hash("email", "wq@example.org"),
                ledger.contact_hash("phone", "+48602771939"),
            ],
            "key_id": ledger.key_id,
            "kept": [],
        }
        ledger.append([json.dumps(line)])
        report = backups.reapply_erasures()
    assert report.erased_by_contacts == 1
    assert Customer.get_by_id(person.id).erased_at is not None
    # Sharing only the e-mail is not enough: listed for a person to check, not erased.
    assert report.possible_matches == [partly.id]
    assert Customer.get_by_id(partly.id).erased_at is None
    assert Customer.get_by_id(other.id).erased_at is None


def test_an_id_reused_by_someone_else_is_not_erased(app):
    with app.app_context():
        person, _other = person_and_other()
        ledger = erasure.Ledger.current()
        line = {
            "v": 1,
            "customer_id": person.id,
            "erased_at": "2026-01-01T00:00:00",
            "record": ledger.record_hash(person.id, person.created_at.replace(year=2001)),
            "contacts": [ledger.contact_hash("email", "someone.else@example.org")],
            "key_id": ledger.key_id,
            "kept": [],
        }
        ledger.append([json.dumps(line)])
        report = backups.reapply_erasures()
    assert report.erased == 0
    assert Customer.get_by_id(person.id).erased_at is None


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_backup_is_consistent_while_a_writer_writes(app, tmp_path):
    live = sqlite_path(app)
    stop = threading.Event()
    written = []

    def writer():
        connection = sqlite3.connect(live, timeout=30)
        while not stop.is_set():
            with connection:
                connection.execute(
                    "INSERT INTO customer (given_name, family_name, name_order, display_name, "
                    "company, preferred_channel, preferred_language, gender, note, source, "
                    "source_detail, external, tier, tier_manual, rfm_score, lifetime_value, "
                    "purchase_count, created_at, updated_at, last_activity_at, search_tokens) "
                    "VALUES ('W', 'Writer', 'given_first', 'W Writer', '', 'email', 'en', '', "
                    "?, 'in_store', '', 0, '', 0, '', 0, 0, '2026-01-01', '2026-01-01', "
                    "'2026-01-01', 'writer')",
                    ("x" * 2000,),
                )
            written.append(1)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 200:
            time.sleep(0.01)
        with app.app_context():
            path = backups.backup(tmp_path / "live.sqlite3")
        during = len(written)
    finally:
        stop.set()
        thread.join()
    copy = sqlite3.connect(path)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copied = copy.execute("SELECT count(*) FROM customer").fetchone()[0]
    assert 200 <= copied <= during + 1
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_commands_back_up_into_the_instance_folder_and_restore(app):
    with app.app_context():
        person, _other = person_and_other()
    runner = app.test_cli_runner()
    result = runner.invoke(backup_command)
    assert result.exit_code == 0, result.output
    made = list((Path(app.instance_path) / "backups").iterdir())
    assert len(made) == 1 and made[0].name.startswith("kartoteka-")
    with app.app_context():
        erasure.erase(person.id)
    result = runner.invoke(restore_command, [str(made[0]), "--yes"])
    assert result.exit_code == 0, result.output
    assert "applied again: 1 (1 by record" in result.output
    assert Customer.get_by_id(person.id).erased_at is not None


def test_missing_postgresql_tools_are_named(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(backups.BackupError, match="pg_dump was not found: install"):
        backups._pg_tool("pg_dump")
