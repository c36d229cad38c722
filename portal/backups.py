"""Backups and restore (SPEC 4): a consistent copy of the live database, and a restore that
erases again everyone erased since the copy was made (SPEC 6.3).

SQLite is copied with its online backup API (one read transaction: a consistent snapshot while
the shop keeps writing); PostgreSQL with `pg_dump -Fc`. A backup still holds people erased
after it was made, so restore re-applies the tombstones kept outside the database
(portal/erasure.py, instance/erasure-tombstones.jsonl) before anyone uses the data.
"""

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

from flask import current_app
from peewee import chunked

from . import erasure, migrations
from .extensions import db
from .models import ContactPoint, Customer, utcnow

BACKUP_DIR = "backups"
CHUNK = 2000
POSSIBLE_MATCHES_SHOWN = 100


class BackupError(RuntimeError):
    pass


@dataclass
class RestoreReport:
    source: Path
    migrations_applied: list[str] = field(default_factory=list)
    tombstones: int = 0
    erased_by_record: int = 0
    erased_by_contacts: int = 0
    # Records sharing some, not all, contacts with an erased person: a person checks them.
    possible_matches: list[int] = field(default_factory=list)
    # Tombstones hashed with another key (TOMBSTONE_KEY or SECRET_KEY changed): by id only.
    other_key: int = 0

    @property
    def erased(self) -> int:
        return self.erased_by_record + self.erased_by_contacts


def _url() -> str:
    return current_app.config["DATABASE_URL"]


def _is_sqlite(url: str) -> bool:
    return urlparse(url).scheme == "sqlite"


def _sqlite_path(url: str) -> Path:
    return Path(unquote(urlparse(url).path)[1:])


def default_path(now: datetime | None = None) -> Path:
    """instance/backups/kartoteka-YYYYMMDD-HHMMSS.<sqlite3|dump>"""
    stamp = (now or utcnow()).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if _is_sqlite(_url()) else "dump"
    return Path(current_app.instance_path) / BACKUP_DIR / f"kartoteka-{stamp}.{suffix}"


def backup(target: Path | str | None = None) -> Path:
    """Copy the live database to target (default: a timestamped file under instance/backups)."""
    target = Path(target) if target else default_path()
    if target.exists():
        raise BackupError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(target.name + ".part")
    url = _url()
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        _fsync(partial)
        os.replace(partial, target)  # a backup file is either whole or absent
    finally:
        partial.unlink(missing_ok=True)
    return target


def _fsync(path: Path) -> None:
    os.chmod(path, 0o600)  # it holds every customer's personal data
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sqlite_backup(live: Path, target: Path) -> None:
    source = sqlite3.connect(live, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1) reads the whole file in one transaction: a consistent snapshot,
        # while WAL lets writers go on.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        _check_integrity(copy, target)
    finally:
        copy.close()
        source.close()


def _check_integrity(connection, path) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path} failed its integrity check: {result}")
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    if "customer" not in tables:
        raise BackupError(f"{path} is not a Kartoteka database")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client tools matching the server "
            "(Debian: apt-get install postgresql-client)"
        )
    return found


def _pg_connection(url: str) -> tuple[str, dict]:
    """The URL without its password (which would show in the process list), and the env."""
    parsed = urlparse(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = unquote(parsed.password)
        netloc = parsed.netloc.split("@", 1)[1]
        user = parsed.username or ""
        parsed = parsed._replace(netloc=f"{user}@{netloc}" if user else netloc)
    scheme = "postgresql"
    return urlunparse(parsed._replace(scheme=scheme)), env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def _pg_dump(url: str, target: Path) -> None:
    dsn, env = _pg_connection(url)
    _run([_pg_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={dsn}"], env)


# --- Restore -------------------------------------------------------------------------------


def restore(source: Path | str) -> RestoreReport:
    """Bring a backup back into the live database, then erase again whoever was erased since.

    Stop the application (web workers, scheduled jobs) first: their connections would see the
    database change under them.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    url = _url()
    db.close_all()  # the pool's connections would hold the old database open
    if _is_sqlite(url):
        _sqlite_restore(source, _sqlite_path(url))
    else:
        dsn, env = _pg_connection(url)
        _run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={dsn}",
                str(source),
            ],
            env,
        )
    report = RestoreReport(source)
    # A backup from before a schema change needs it before erasure can write its tombstones.
    report.migrations_applied = migrations.upgrade(db)
    reapply_erasures(report)
    return report


def _sqlite_restore(source: Path, live: Path) -> None:
    backup_copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _check_integrity(backup_copy, source)
        target = sqlite3.connect(live, timeout=30)
        try:
            # Through SQLite's own locking, so no reader ever sees a half-copied file.
            backup_copy.backup(target)
            target.execute("PRAGMA journal_mode = WAL")
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
    finally:
        backup_copy.close()


def reapply_erasures(report: RestoreReport | None = None) -> RestoreReport:
    """Erase every customer in the database that a tombstone names and who is not erased.

    A record matches by id when the tombstone's record hash (id and creation time) agrees, so
    an id reused by someone else later is left alone; a record whose e-mails and phones all
    belong to one tombstone matches by those hashes alone. Records sharing only some of them
    are listed for a person to check.
    """
    report = report or RestoreReport(Path(""))
    ledger = erasure.Ledger.current()
    tombstones = ledger.read()
    report.tombstones = len(tombstones)
    by_id = {t["customer_id"]: t for t in tombstones}
    report.other_key = sum(1 for t in tombstones if t.get("key_id") != ledger.key_id)

    for ids in chunked(sorted(by_id), CHUNK):
        rows = Customer.select(Customer.id, Customer.created_at).where(
            Customer.id.in_(ids) & Customer.erased_at.is_null()
        )
        for row in list(rows):
            tombstone = by_id[row.id]
            if _same_record(tombstone, row, ledger) and _erase_again(row.id, tombstone, ledger):
                report.erased_by_record += 1

    owner_of = {
        digest: index
        for index, t in enumerate(tombstones)
        if t.get("key_id") == ledger.key_id
        for digest in t.get("contacts", [])
    }
    if owner_of:
        _match_contacts(tombstones, owner_of, ledger, report)
    erasure.clear_freed_bytes()
    return report


def _same_record(tombstone: dict, row, ledger) -> bool:
    if tombstone.get("key_id") == ledger.key_id:
        return tombstone.get("record") == ledger.record_hash(row.id, row.created_at)
    # Another key: a record created before the erasure is the erased one; a later one with
    # the same id is someone else.
    return row.created_at <= datetime.fromisoformat(tombstone["erased_at"])


def _erase_again(customer_id: int, tombstone: dict, ledger) -> bool:
    receipt = erasure.erase_records(
        customer_id,
        keep=[p for p in tombstone.get("kept", []) if p in erasure.PARTS],
        trigger="restore",
        ledger=ledger,
        write_ledger=False,  # the file already names them
    )
    return receipt is not None


def _match_contacts(tombstones, owner_of, ledger, report: RestoreReport) -> None:
    """Stream the customers in id order, a chunk at a time, and match their contacts."""
    after = 0
    while True:
        ids = [
            c.id
            for c in Customer.select(Customer.id)
            .where((Customer.id > after) & Customer.erased_at.is_null())
            .order_by(Customer.id)
            .limit(CHUNK)
        ]
        if not ids:
            return
        after = ids[-1]
        contacts: dict[int, list[str]] = {}
        for point in ContactPoint.select(
            ContactPoint.customer, ContactPoint.kind, ContactPoint.normalized
        ).where(ContactPoint.customer.in_(ids)):
            contacts.setdefault(point.customer_id, []).append(
                ledger.contact_hash(point.kind, point.normalized)
            )
        for customer_id, hashes in contacts.items():
            owners = {owner_of.get(h) for h in hashes}
            if owners == {None}:
                continue
            if len(owners) == 1:
                tombstone = tombstones[owners.pop()]
                if _erase_again(customer_id, tombstone, ledger):
                    report.erased_by_contacts += 1
            elif len(report.possible_matches) < POSSIBLE_MATCHES_SHOWN:
                report.possible_matches.append(customer_id)
