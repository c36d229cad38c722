"""Speed at a million customers.

* The customer list pages by (sort column, id): one composite index per sort replaces the
  single-column indexes, so a page deep in the list is a range scan.
* SQLite's search index gets prefix indexes up to 7 characters, so broad fragments such as
  "gmail" or "hotmail" are read incrementally instead of merging many doclists.
"""

KEYSET = ("display_name", "created_at", "lifetime_value", "last_activity_at")
OLD_SINGLE = ("display_name", "created_at", "last_activity_at")
FTS = (
    "CREATE VIRTUAL TABLE customer_search USING fts5("
    "search_tokens, content='customer', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='{prefixes}', detail='none')"
)


def _is_postgresql(db):
    return type(db).__name__.endswith("PostgresqlDatabase")


def _rebuild_search(db, prefixes):
    db.execute_sql("DROP TABLE customer_search")
    db.execute_sql(FTS.format(prefixes=prefixes))
    db.execute_sql("INSERT INTO customer_search(customer_search) VALUES ('rebuild')")


def up(migrator, db):
    migrator.migrate(
        *[migrator.drop_index('customer', f'customer_{column}') for column in OLD_SINGLE],
        *[migrator.add_index('customer', (column, 'id'), False) for column in KEYSET],
    )
    if not _is_postgresql(db):
        _rebuild_search(db, "1 2 3 4 5 6 7")


def down(migrator, db):
    migrator.migrate(
        *[migrator.drop_index('customer', f'customer_{column}_id') for column in KEYSET],
        *[migrator.add_index('customer', (column,), False) for column in OLD_SINGLE],
    )
    if not _is_postgresql(db):
        _rebuild_search(db, "1 2 3")
