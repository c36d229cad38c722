"""Search: customer.search_tokens, indexed by FTS5 (SQLite) or GIN over a tsvector (PostgreSQL).

The index follows the column by itself (triggers on SQLite, an expression index on
PostgreSQL), so every writer, bulk ones included, keeps search in step inside its transaction.
"""
from peewee import TextField

SQLITE_UP = [
    "CREATE VIRTUAL TABLE customer_search USING fts5("
    "search_tokens, content='customer', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='1 2 3', detail='none')",
    "CREATE TRIGGER customer_search_insert AFTER INSERT ON customer BEGIN "
    "INSERT INTO customer_search(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "CREATE TRIGGER customer_search_delete AFTER DELETE ON customer BEGIN "
    "INSERT INTO customer_search(customer_search, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); END",
    "CREATE TRIGGER customer_search_update AFTER UPDATE OF search_tokens ON customer BEGIN "
    "INSERT INTO customer_search(customer_search, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); "
    "INSERT INTO customer_search(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "INSERT INTO customer_search(customer_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS customer_search_update",
    "DROP TRIGGER IF EXISTS customer_search_delete",
    "DROP TRIGGER IF EXISTS customer_search_insert",
    "DROP TABLE IF EXISTS customer_search",
]
POSTGRESQL_UP = [
    "CREATE INDEX customer_search_tokens ON customer USING gin "
    "(array_to_tsvector(string_to_array(search_tokens, ' ')))",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS customer_search_tokens"]


def _is_postgresql(db):
    return type(db).__name__.endswith("PostgresqlDatabase")


def up(migrator, db):
    migrator.migrate(migrator.add_column('customer', 'search_tokens', TextField(default='')))
    for statement in POSTGRESQL_UP if _is_postgresql(db) else SQLITE_UP:
        db.execute_sql(statement)


def down(migrator, db):
    for statement in POSTGRESQL_DOWN if _is_postgresql(db) else SQLITE_DOWN:
        db.execute_sql(statement)
    migrator.migrate(migrator.drop_column('customer', 'search_tokens'))
