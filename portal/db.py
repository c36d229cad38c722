"""Turn a DATABASE_URL into a pooled Peewee database (SQLite by default, PostgreSQL by URL)."""

from urllib.parse import unquote, urlparse

from peewee import PostgresqlDatabase
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
    "cache_size": -64 * 1024,  # 64 MiB page cache per connection
    # Deleted and overwritten content is zeroed on every connection, not only the erasing one:
    # an earlier edit or page split elsewhere would otherwise leave old values in free space,
    # and an erased person's name must appear nowhere in the file (SPEC 6.3).
    "secure_delete": 1,
}


class UnsupportedDatabaseURL(ValueError):
    pass


def database_from_url(url: str):
    """Return an unconnected, pooled database for an sqlite:/// or postgresql:// URL.

    Connections are pooled per worker thread: a fresh SQLite connection starts with a cold
    page cache (see STACK-NOTES), so closing one at the end of a request only returns it.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/file.db and sqlite:////absolute/file.db, as SQLAlchemy spells them
        path = unquote(parsed.path)[1:]
        return PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            max_connections=64,
            stale_timeout=600,
            check_same_thread=False,
        )
    if parsed.scheme in {"postgresql", "postgres"}:
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port or 5432,
            max_connections=32,
            stale_timeout=600,
            # JIT compilation costs tens of milliseconds and pays off only for long analytic
            # queries; every query of this application is short. The driver prepares a query
            # run five times, and PostgreSQL may then plan it once for any values: for search
            # that generic plan walks the table instead of the index a rare term needs (50 ms
            # instead of 1), so each run is planned for its own values.
            options="-c jit=off -c plan_cache_mode=force_custom_plan",
        )
    raise UnsupportedDatabaseURL(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url!r}"
    )


def is_postgresql(database) -> bool:
    """True when the (possibly proxied) database is PostgreSQL; the few engine differences ask this."""
    return isinstance(getattr(database, "obj", database), PostgresqlDatabase)


def write_transaction(database):
    """A transaction that takes the write lock up front on SQLite.

    A deferred SQLite transaction that reads and then writes fails with "database is locked"
    when another connection wrote in between; IMMEDIATE waits (busy_timeout) instead.
    """
    if is_postgresql(database):
        return database.atomic()
    return database.atomic("IMMEDIATE")
