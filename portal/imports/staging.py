"""Preparing an import: every row read, checked, matched and staged, nothing written yet.

    with Scratch.create(path) as scratch:
        summary = prepare(import_job, options, scratch, progress)

`prepare` streams the file once: each row (or, for an orders export, each order) is read and
checked by portal/imports/rows.py, matched against the customers already here (normalised
e-mail, E.164 phone, or the id the source system gave them) and against the rows before it,
and staged with what the import will do with it: create, update or skip. The staged rows go
to a scratch SQLite file beside the upload, not to the database, so memory stays flat for a
million rows and the database is touched only by portal/imports/applying.py, in one short
transaction. The check the owner sees before importing and the import itself both run
`prepare`; the import runs it again so that it matches against the database as it is then.
"""

import json
import marshal
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..db import is_postgresql
from ..extensions import db
from .mapping import Mapping
from .problems import Problem
from .reading import ImportFileError, open_table
from .rows import RowOptions, RowReader, group_orders

BATCH = 500  # rows matched against the database per query
PREVIEW_ROWS = 20
REPORTED_PROBLEMS = 1000  # kept in the job's report; the scratch file holds them all

# What a row matching an existing customer (or an earlier row) does.
DUPLICATE_MODES = ("skip", "update_fill", "update_overwrite", "create")

# The id space a source's customer ids belong to (ExternalReference.system).
SYSTEMS = {
    "shopify_customers": "shopify",
    "shopify_orders": "shopify",
    "woocommerce": "woocommerce",
    "hubspot": "hubspot",
    "spreadsheet": "spreadsheet",
}

# The fields of a staged customer that hold one value (lists are merged separately).
SCALAR_FIELDS = (
    "given_name",
    "family_name",
    "name_order",
    "company",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "birth_date",
    "note",
    "preferred_language",
    "external_id",
    "accepts_email_marketing",
    "accepts_sms_marketing",
    "created_at",
)
LIST_FIELDS = ("emails", "phones", "tags")


@dataclass
class ImportOptions:
    """Everything the owner chose for one import; stored as JSON in ImportJob.options."""

    # Reading the file ("" = as detected)
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    # Reading values (RowOptions)
    default_region: str = "PL"
    day_first: bool = True
    timezone: str = "UTC"
    default_currency: str = ""
    # What to do
    duplicates: str = "update_fill"
    # Consent: purpose id (as text) -> "column:accepts_email_marketing",
    # "column:accepts_sms_marketing", "everyone" (every row agreed) or "" (the file says nothing)
    consent: dict[str, str] = field(default_factory=dict)
    consent_evidence: str = ""  # stored with every consent event, e.g. "sign-up sheets 2024"
    list_kind: str = "internal"  # internal (the business's own customers) or external
    vendor: str = ""  # where an external list comes from
    default_language: str = "en"  # for rows that do not say

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "ImportOptions":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def row_options(self) -> RowOptions:
        return RowOptions.from_dict(self.to_dict())

    @property
    def overwrite(self) -> bool:
        return self.duplicates == "update_overwrite"


@dataclass
class Summary:
    """What the check found, or what the import did; stored as JSON in ImportJob.report."""

    rows: int = 0  # customers (or orders) read from the file
    error_rows: int = 0  # left out for errors
    warning_rows: int = 0  # imported without a value that could not be read
    create: int = 0
    update: int = 0  # existing customers the file adds to (some may turn out unchanged)
    unchanged: int = 0  # set by the import: matched but the file had nothing new
    skip_existing: int = 0  # matched a customer already here; the owner chose to skip
    in_file_duplicates: int = 0  # the same customer as an earlier row of the file
    orders: int = 0
    purchases: int = 0  # new purchases (orders exports)
    purchases_existing: int = 0  # orders already here from an earlier import
    consent_events: int = 0
    problem_count: int = 0
    problem_counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Summary":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    @property
    def importable(self) -> int:
        return self.create + self.update


# --- The scratch file ----------------------------------------------------------------------


class Scratch:
    """A throw-away SQLite file holding one import's staged rows, keys and problems.

    Staged rows are dicts of text, numbers, None and lists, kept with `marshal` (several times
    faster than JSON; the file never outlives the Python that wrote it).
    """

    SCHEMA = (
        "CREATE TABLE customer_stage (seq INTEGER PRIMARY KEY, row INTEGER, action TEXT, "
        "customer_id INTEGER, data TEXT, new_id INTEGER)",
        "CREATE TABLE order_stage (seq INTEGER PRIMARY KEY, row INTEGER, customer_seq INTEGER, "
        "data TEXT)",
        "CREATE TABLE stage_key (key TEXT PRIMARY KEY, seq INTEGER) WITHOUT ROWID",
        "CREATE TABLE problem (id INTEGER PRIMARY KEY, data TEXT)",
    )

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self.db = connection

    @classmethod
    def create(cls, path: Path) -> "Scratch":
        """A new, empty scratch file (an earlier one at `path` is replaced)."""
        for leftover in (path, Path(f"{path}-journal")):
            leftover.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        scratch = cls.open(path)
        for statement in cls.SCHEMA:
            scratch.db.execute(statement)
        return scratch

    @classmethod
    def open(cls, path: Path) -> "Scratch":
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # Disposable: a crash only means preparing again.
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -8192")  # 8 MiB: the import reads it in order
        return cls(path, connection)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Scratch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Staging

    def add_customers(self, rows: list[tuple]) -> None:
        """Stage customers: (seq, row number, action, existing customer id, data)."""
        self.db.executemany(
            "INSERT INTO customer_stage (seq, row, action, customer_id, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                (seq, row, action, customer_id, marshal.dumps(data))
                for seq, row, action, customer_id, data in rows
            ),
        )

    def customer(self, seq: int) -> tuple[str, int | None, dict]:
        """(action, existing customer id, data) of a staged customer."""
        action, customer_id, data = self.db.execute(
            "SELECT action, customer_id, data FROM customer_stage WHERE seq = ?", (seq,)
        ).fetchone()
        return action, customer_id, marshal.loads(data)

    def replace_customer(self, seq: int, data: dict) -> None:
        self.db.execute(
            "UPDATE customer_stage SET data = ? WHERE seq = ?",
            (marshal.dumps(data), seq),
        )

    def add_orders(self, rows: list[tuple]) -> None:
        """Stage orders: (row number, seq of the staged customer, data)."""
        self.db.executemany(
            "INSERT INTO order_stage (row, customer_seq, data) VALUES (?, ?, ?)",
            ((row, seq, marshal.dumps(data)) for row, seq, data in rows),
        )

    def seqs_of(self, keys: set[str]) -> dict[str, int]:
        """The staged customer each of these keys already belongs to (the first to claim it)."""
        found: dict[str, int] = {}
        keys = list(keys)
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            marks = ",".join("?" * len(part))
            found.update(
                self.db.execute(f"SELECT key, seq FROM stage_key WHERE key IN ({marks})", part)
            )
        return found

    def remember_pairs(self, pairs: list[tuple[str, int]]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO stage_key (key, seq) VALUES (?, ?)", pairs)

    def add_problems(self, problems: list[Problem]) -> None:
        self.db.executemany(
            "INSERT INTO problem (data) VALUES (?)",
            ((json.dumps(p.to_dict(), ensure_ascii=False),) for p in problems),
        )

    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    # Reading back

    def problems(self) -> Iterator[Problem]:
        for (data,) in self.db.execute("SELECT data FROM problem ORDER BY id"):
            yield Problem.from_dict(json.loads(data))

    def customers(self, action: str, after: int = 0, limit: int = 1000) -> list[tuple]:
        """(seq, row, customer_id, data) of staged customers with this action, in file order."""
        return [
            (seq, row, customer_id, marshal.loads(data))
            for seq, row, customer_id, data in self.db.execute(
                "SELECT seq, row, customer_id, data FROM customer_stage "
                "WHERE action = ? AND seq > ? ORDER BY seq LIMIT ?",
                (action, after, limit),
            )
        ]

    def set_new_ids(self, pairs: list[tuple[int, int]]) -> None:
        """Record the ids the import gave the customers it creates: (new id, seq)."""
        self.db.executemany("UPDATE customer_stage SET new_id = ? WHERE seq = ?", pairs)

    def orders(self, after: int = 0, limit: int = 1000) -> list[tuple]:
        """(seq, row, customer id, data) of staged orders whose customer is not skipped."""
        return [
            (seq, row, customer_id, marshal.loads(data))
            for seq, row, customer_id, data in self.db.execute(
                "SELECT o.seq, o.row, COALESCE(c.customer_id, c.new_id), o.data "
                "FROM order_stage o JOIN customer_stage c ON c.seq = o.customer_seq "
                "WHERE o.seq > ? ORDER BY o.seq LIMIT ?",
                (after, limit),
            )
        ]

    def count(self, table: str) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# --- Preparing -----------------------------------------------------------------------------


def prepare(
    file_path: str,
    file_format: str,
    mapping: Mapping,
    options: ImportOptions,
    scratch: Scratch,
    progress: Callable[[float], None] = lambda fraction: None,
) -> Summary:
    """Read, check, match and stage every row of the file; ImportFileError if it is unreadable."""
    table = open_table(
        file_path,
        file_format=file_format,
        encoding=options.encoding or None,
        delimiter=options.delimiter or None,
        sheet=options.sheet or None,
    )
    with table:
        if set(table.headers) != set(mapping.columns):
            raise ImportFileError("headings_changed")
        reader = RowReader(table.headers, mapping, options.row_options())
        stager = _Stager(scratch, options, SYSTEMS.get(mapping.source, "spreadsheet"))
        if reader.has_orders:
            items = (
                (order.customer, order, problems) for order, problems in group_orders(table, reader)
            )
        else:
            items = ((customer, None, problems) for customer, problems in map(reader.read, table))
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) >= BATCH:
                stager.add(batch)
                batch = []
                progress(table.fraction_read())
        stager.add(batch)
    return stager.summary


class _Stager:
    """Stages rows batch by batch: one scratch query finds the keys a batch shares with rows
    staged before, and the batch's rows are written with one statement per table."""

    def __init__(self, scratch: Scratch, options: ImportOptions, system: str):
        self.scratch = scratch
        self.options = options
        self.mode = options.duplicates if options.duplicates in DUPLICATE_MODES else "skip"
        self.system = system
        self.summary = Summary()
        self._problem_counts: Counter = Counter()
        self._next_seq = 1
        # This batch's staged customers (seq -> [row, action, customer id, data]), new keys
        # and orders; written to the scratch file when the batch ends.
        self._pending: dict[int, list] = {}
        self._keys_seen: dict[str, int] = {}
        self._new_keys: list[tuple[str, int]] = []
        self._orders: list[tuple] = []
        self._changed: dict[int, dict] = {}  # earlier batches' customers a row folded into

    def add(self, batch: list) -> None:
        if not batch:
            return
        good = []
        problems_found = []
        for customer, order, problems in batch:
            self.summary.rows += 1
            if order is not None:
                self.summary.orders += 1
            if problems:
                problems_found += problems
                if any(p.is_error for p in problems):
                    self.summary.error_rows += 1
                    continue
                self.summary.warning_rows += 1
            good.append((customer, order))
        matches = _existing_customers([customer for customer, _ in good], self.system)
        known_orders = _existing_orders([order for _, order in good if order is not None])
        staged = []
        for (customer, order), match in zip(good, matches, strict=True):
            if self.mode == "create" and match is not None and match[1] != "external":
                match = None  # here an e-mail or phone alone does not make the same record
            keys = self._keys(customer, match)
            if order is not None:
                keys.append(f"o:{order.order_number}")
            staged.append((customer, order, match, keys))
        self._keys_seen = self.scratch.seqs_of({k for *_, keys in staged for k in keys})
        for customer, order, match, keys in staged:
            order_key = keys.pop() if order is not None else None
            seq = self._stage_customer(customer, match, keys, orders=order is not None)
            if order is not None:
                self._stage_order(order, order_key, seq, known_orders)
        self._write(problems_found)
        self.summary.problem_counts = dict(self._problem_counts)

    def _write(self, problems: list[Problem]) -> None:
        scratch = self.scratch
        scratch.begin()
        if problems:
            self._problems(problems)
        scratch.add_customers([(seq, *entry[:3], entry[3]) for seq, entry in self._pending.items()])
        for seq, data in self._changed.items():
            scratch.replace_customer(seq, data)
        scratch.remember_pairs(self._new_keys)
        scratch.add_orders(self._orders)
        scratch.commit()
        self._pending, self._changed, self._new_keys, self._orders = {}, {}, [], []

    def _problems(self, problems: list[Problem]) -> None:
        self.scratch.add_problems(problems)
        self.summary.problem_count += len(problems)
        self._problem_counts.update(p.code for p in problems)
        room = REPORTED_PROBLEMS - len(self.summary.problems)
        if room > 0:
            self.summary.problems.extend(p.to_dict() for p in problems[:room])

    def _keys(self, customer, match) -> list[str]:
        keys = [f"x:{customer.external_id}"] if customer.external_id else []
        if match is not None:
            keys.append(f"c:{match[0]}")
        keys += [f"e:{key}" for _, key in customer.emails]
        keys += [f"p:{e164}" for _, e164 in customer.phones]
        return keys

    def _remember(self, keys: list[str], seq: int) -> None:
        for key in keys:
            if key not in self._keys_seen:
                self._keys_seen[key] = seq
                self._new_keys.append((key, seq))

    def _staged(self, seq: int) -> tuple[str, int | None, dict]:
        """(action, customer id, data) of a customer staged in this batch or before."""
        if seq in self._pending:
            _row, action, customer_id, data = self._pending[seq]
            return action, customer_id, data
        action, customer_id, data = self.scratch.customer(seq)
        return action, customer_id, self._changed.get(seq, data)

    def _stage_customer(self, customer, match, keys: list[str], *, orders: bool) -> int:
        """Stage one customer row; returns the seq of the staged customer it ends up in."""
        # Creating a record for every row, only the source system's id says "the same
        # record" (however often the file is imported); an orders export repeats its
        # customers on every order, so there the file's own rows are always folded together.
        lookup = keys if orders or self.mode != "create" else [k for k in keys if k[0] in "xc"]
        earlier = min((self._keys_seen[k] for k in lookup if k in self._keys_seen), default=None)
        if earlier is not None:
            if not orders:
                self.summary.in_file_duplicates += 1
            action, _customer_id, staged = self._staged(earlier)
            if action != "skip" and (orders or self.mode != "skip"):
                merged = merge_rows(staged, customer.to_dict(), overwrite=self.options.overwrite)
                if merged != staged:
                    if earlier in self._pending:
                        self._pending[earlier][3] = merged
                    else:
                        self._changed[earlier] = merged
            self._remember(keys, earlier)
            return earlier
        if match is not None:
            if self.mode in ("skip", "create"):
                action = "skip"
                self.summary.skip_existing += 1
            else:
                action = "update"
                self.summary.update += 1
        else:
            action = "create"
            self.summary.create += 1
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        data = customer.to_dict()
        self._pending[seq] = [customer.row_number, action, match[0] if match else None, data]
        self._remember(keys, seq)
        if len(self.summary.preview) < PREVIEW_ROWS:
            self.summary.preview.append(
                {"action": action, "customer_id": match and match[0], **data}
            )
        return seq

    def _stage_order(self, order, key: str, customer_seq: int, known_orders: set) -> None:
        if key in self._keys_seen:  # the same order number earlier in the file
            self.summary.purchases_existing += 1
            return
        self._remember([key], -1)
        _action, customer_id, _data = self._staged(customer_seq)
        if (order.order_number, customer_id) in known_orders:
            self.summary.purchases_existing += 1
            return
        self.summary.purchases += 1
        self._orders.append(
            (
                order.row_number,
                customer_seq,
                {
                    "order_number": order.order_number,
                    "ordered_at": order.ordered_at.isoformat() if order.ordered_at else None,
                    "currency": order.currency,
                    "total": str(order.total) if order.total is not None else None,
                    "location": order.location,
                    "lines": [
                        [
                            line.product,
                            str(line.quantity),
                            None if line.unit_price is None else str(line.unit_price),
                        ]
                        for line in order.lines
                    ],
                },
            )
        )


def _identity(item):
    return item[1] if isinstance(item, list) else item


def merge_rows(base: dict, new: dict, *, overwrite: bool) -> dict:
    """A staged customer with a later row of the same person folded in.

    Lists (e-mails, phones, tags) are combined; a single value fills an empty one, or, with
    `overwrite`, replaces it when the later row has one.
    """
    merged = dict(base)
    for name in SCALAR_FIELDS:
        value = new.get(name)
        if value in (None, ""):
            continue
        if overwrite or merged.get(name) in (None, ""):
            merged[name] = value
    for name in LIST_FIELDS:
        items = [
            list(item) if isinstance(item, list | tuple) else item
            for item in merged.get(name) or []
        ]
        # E-mails and phones are [as written, normalised]: the same contact whatever its case
        # or spacing. Tags are plain names.
        known = {_identity(item) for item in items}
        for item in new.get(name) or []:
            item = list(item) if isinstance(item, list | tuple) else item
            if _identity(item) not in known:
                known.add(_identity(item))
                items.append(item)
        merged[name] = items
    return merged


# --- Matching against the database ----------------------------------------------------------


_ACTIVE = "c.erased_at IS NULL AND c.merged_into_id IS NULL"


def _select(sql: str, params: list, values: list) -> list[tuple]:
    """Rows of `sql` where {mark} is one parameter and {in_values} tests for any of `values`.

    PostgreSQL gets the list as one array (`= ANY(%s)`): one parameter to plan instead of
    five hundred.
    """
    if not values:
        return []
    mark = db.param
    if is_postgresql(db):
        query = sql.format(mark=mark, in_values=f"= ANY({mark})")
        return db.execute_sql(query, [*params, list(values)]).fetchall()
    query = sql.format(mark=mark, in_values=f"IN ({', '.join([mark] * len(values))})")
    return db.execute_sql(query, [*params, *values]).fetchall()


def _existing_customers(rows: list, system: str) -> list[tuple[int, str] | None]:
    """For each row, (id, how) of the customer already here it matches, or None.

    The source system's id wins, then the first e-mail address, then the first phone number
    that belongs to a customer; among several customers with one address, the oldest.
    """
    emails = list({key for row in rows for _, key in row.emails})
    phones = list({e164 for row in rows for _, e164 in row.phones})
    external = list({row.external_id for row in rows if row.external_id})
    by_contact: dict[tuple[str, str], int] = {}
    for kind, values in (("email", emails), ("phone", phones)):
        # Plain SQL: building a 500-value IN list through the query builder cost more than
        # the query (a third of a second per 20,000 rows).
        for normalized, customer_id in _select(
            "SELECT p.normalized, p.customer_id FROM contact_point p "
            "JOIN customer c ON c.id = p.customer_id "
            f"WHERE p.kind = {{mark}} AND p.normalized {{in_values}} AND {_ACTIVE} "
            "ORDER BY p.customer_id DESC",
            [kind],
            values,
        ):
            by_contact[kind, normalized] = customer_id
    by_external = dict(
        _select(
            "SELECT r.value, r.customer_id FROM external_reference r "
            "JOIN customer c ON c.id = r.customer_id "
            f"WHERE r.system = {{mark}} AND r.value {{in_values}} AND {_ACTIVE}",
            [system],
            external,
        )
    )
    matches = []
    for row in rows:
        match = None
        if row.external_id in by_external:
            match = (by_external[row.external_id], "external")
        else:
            for kind, values in (
                ("email", [k for _, k in row.emails]),
                ("phone", [p for _, p in row.phones]),
            ):
                found = next((by_contact[kind, v] for v in values if (kind, v) in by_contact), None)
                if found is not None:
                    match = (found, kind)
                    break
        matches.append(match)
    return matches


def _existing_orders(orders: list) -> set[tuple[str, int]]:
    """(order number, customer id) of the purchases already here with these numbers."""
    numbers = list({order.order_number for order in orders})
    rows = _select(
        "SELECT receipt_number, customer_id FROM purchase WHERE receipt_number {in_values}",
        [],
        numbers,
    )
    return set(rows)
