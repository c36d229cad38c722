"""The audit trail is a hash chain: `flask audit verify` finds an edited, removed or inserted
event and names the first one; the database refuses to change or delete events; concurrent
writers never fork the chain."""

import threading
from contextlib import contextmanager

import pytest
from peewee import DatabaseError

from portal import audit
from portal.db import is_postgresql
from portal.extensions import db
from portal.models import AuditEvent


def record_some(count: int) -> list[AuditEvent]:
    return [
        audit.record(
            "customer_viewed",
            actor_type="staff",
            actor_id=7,
            target_type="customer",
            target_id=100 + n,
            ip_address="192.0.2.1",
        )
        for n in range(count)
    ]


def verify_command(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


@contextmanager
def append_only_lifted():
    """What an attacker with access to the database file or server would do first."""
    if is_postgresql(db):
        db.execute_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
        try:
            yield
        finally:
            # The PostgreSQL schema is shared by the following tests: put it back.
            db.execute_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
    else:
        # Each SQLite test has its own copy of the database file.
        db.execute_sql("DROP TRIGGER audit_event_no_update")
        db.execute_sql("DROP TRIGGER audit_event_no_delete")
        yield


def test_an_untouched_chain_verifies(app):
    events = record_some(12)

    result = audit.verify(batch_size=5)  # several batches

    assert result.ok and result.checked == 12
    assert result.last_hash == events[-1].hash
    output = verify_command(app)
    assert output.exit_code == 0
    assert "OK: 12 events checked" in output.output
    assert events[-1].hash in output.output


def test_an_empty_chain_verifies(app):
    result = audit.verify()

    assert result.ok and result.checked == 0
    output = verify_command(app)
    assert output.exit_code == 0 and "OK: 0 events checked" in output.output


def test_each_event_links_to_the_one_before(app):
    first, second, third = record_some(3)
    assert first.prev_hash == ""
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


@pytest.mark.parametrize(
    "column, value",
    [
        ("action", "'signed_in'"),
        ("details", """'{"fields": ["email"]}'"""),
        ("target_id", "999"),
        ("actor_id", "1"),
        ("ip_address", "'198.51.100.9'"),
        ("occurred_at", "'2020-01-01 00:00:00'"),
    ],
)
def test_an_event_edited_in_the_database_is_named(app, column, value):
    events = record_some(6)
    edited = events[3]
    with append_only_lifted():
        db.execute_sql(f"UPDATE audit_event SET {column} = {value} WHERE id = {edited.id}")

    result = audit.verify(batch_size=2)
    output = verify_command(app)

    assert not result.ok
    assert (result.broken_id, result.problem, result.checked) == (edited.id, audit.EDITED, 3)
    assert output.exit_code != 0
    assert f"BROKEN at event {edited.id}" in output.output
    assert "edited" in output.output


def test_an_edit_that_recomputes_the_hash_breaks_the_next_link(app):
    events = record_some(5)
    forged = events[2]
    forged.action = "signed_in"
    new_hash = audit._digest(forged.prev_hash, audit.chained_fields(forged))
    with append_only_lifted():
        db.execute_sql(
            "UPDATE audit_event SET action = 'signed_in', hash = %s WHERE id = %s"
            if is_postgresql(db)
            else "UPDATE audit_event SET action = 'signed_in', hash = ? WHERE id = ?",
            (new_hash, forged.id),
        )

    result = audit.verify()

    assert (result.broken_id, result.problem) == (events[3].id, audit.UNLINKED)


def test_an_event_removed_from_the_middle_names_the_next_one(app):
    events = record_some(7)
    with append_only_lifted():
        db.execute_sql(f"DELETE FROM audit_event WHERE id = {events[4].id}")

    result = audit.verify(batch_size=3)
    output = verify_command(app)

    assert (result.broken_id, result.problem, result.checked) == (events[5].id, audit.UNLINKED, 4)
    assert output.exit_code != 0
    assert f"BROKEN at event {events[5].id}" in output.output
    assert "removed or inserted" in output.output


def test_removing_the_first_events_is_noticed(app):
    events = record_some(4)
    with append_only_lifted():
        db.execute_sql(f"DELETE FROM audit_event WHERE id <= {events[1].id}")

    result = audit.verify()

    assert (result.broken_id, result.problem) == (events[2].id, audit.UNLINKED)


def test_an_event_inserted_into_the_chain_is_noticed(app):
    events = record_some(3)
    # A well-formed event added at the end, but linked to the first one (a fork).
    fake = AuditEvent(
        occurred_at=events[-1].occurred_at,
        actor_type="staff",
        actor_id=7,
        action="signed_in",
        prev_hash=events[0].hash,
    )
    fake.hash = audit._digest(fake.prev_hash, audit.chained_fields(fake))
    fake.save(force_insert=True)

    result = audit.verify()

    assert (result.broken_id, result.problem) == (fake.id, audit.UNLINKED)


# Only SQLite stores any value in any column; PostgreSQL would refuse the tampering itself.
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_column_that_no_longer_converts_is_reported_not_crashed_on(app):
    events = record_some(3)
    with append_only_lifted():
        db.execute_sql(f"UPDATE audit_event SET actor_id = 'x7' WHERE id = {events[1].id}")

    result = audit.verify()

    assert (result.broken_id, result.problem) == (events[1].id, audit.EDITED)


def test_the_database_refuses_to_change_or_delete_events(app):
    event = record_some(1)[0]

    with pytest.raises(DatabaseError, match="append-only"), db.atomic():
        AuditEvent.update(action="signed_in").where(AuditEvent.id == event.id).execute()
    with pytest.raises(DatabaseError, match="append-only"), db.atomic():
        AuditEvent.delete().where(AuditEvent.id == event.id).execute()

    assert AuditEvent.get_by_id(event.id).action == "customer_viewed"
    assert audit.verify().ok


def test_two_writers_at_once_do_not_fork_the_chain(app):
    per_thread = 40
    start = threading.Barrier(2)
    failures = []

    def writer():
        try:
            start.wait()
            record_some(per_thread)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    assert len(events) == 2 * per_thread
    # A fork is two events that both follow the same predecessor.
    assert len({event.prev_hash for event in events}) == len(events)
    result = audit.verify()
    assert result.ok and result.checked == 2 * per_thread
