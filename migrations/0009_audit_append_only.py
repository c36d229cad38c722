"""The audit trail is append-only in the database itself, and indexed for the owner's log.

Triggers refuse UPDATE and DELETE on audit_event, so no code path (a bug, an erasure, a
careless script) can rewrite history; someone with direct access to the database could still
drop them, which is what the hash chain and `flask audit verify` are for. TRUNCATE is not
blocked: it empties the chain visibly and the test suite needs it.

The log filters by action or by customer and pages newest first by time: two composite
indexes replace the single-column ones they extend.
"""

SQLITE_UP = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN "
    "SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN "
    "SELECT RAISE(ABORT, 'audit_event is append-only'); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
]
POSTGRESQL_UP = [
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]


def _is_postgresql(db):
    return type(db).__name__.endswith("PostgresqlDatabase")


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index('audit_event', 'auditevent_action'),
        migrator.drop_index('audit_event', 'auditevent_target_type_target_id'),
        migrator.add_index('audit_event', ('action', 'occurred_at'), False),
        migrator.add_index('audit_event', ('target_type', 'target_id', 'occurred_at'), False),
    )
    for statement in POSTGRESQL_UP if _is_postgresql(db) else SQLITE_UP:
        db.execute_sql(statement)


def down(migrator, db):
    for statement in POSTGRESQL_DOWN if _is_postgresql(db) else SQLITE_DOWN:
        db.execute_sql(statement)
    migrator.migrate(
        migrator.drop_index('audit_event', 'audit_event_target_type_target_id_occurred_at'),
        migrator.drop_index('audit_event', 'audit_event_action_occurred_at'),
    )
    # Under the names 0001 gave them, so that up() finds them again.
    db.execute_sql('CREATE INDEX auditevent_action ON audit_event (action)')
    db.execute_sql(
        'CREATE INDEX auditevent_target_type_target_id ON audit_event (target_type, target_id)'
    )
