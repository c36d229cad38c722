"""Find customers by any fragment of a name, e-mail, phone, receipt number or tag, in any script.

One design on both engines (see STACK-NOTES "Search across scripts"): Python folds what we
know about a customer into `customer.search_tokens`, a space-separated list of tokens:

* text is case-folded, accents stripped (ł→l, ё→е, ß→ss), split into words;
* every suffix of every word is a token, so "any fragment" becomes a *prefix* query
  ("owsk" is a prefix of the suffix "owski" of "wasowski");
* each Han character is a token of its own (Chinese is not written with spaces);
* phone numbers are digits (E.164 without "+", and the national form with a leading 0).

SQLite indexes the column with an FTS5 table (prefix indexes for 1–3 characters), PostgreSQL
with a GIN index over `array_to_tsvector(...)`; both are kept in step by the database itself
(triggers, expression index), inside the writer's transaction. Callers use `find()` and
`refresh()` and never write engine-specific SQL.
"""

import re
import unicodedata
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from .db import is_postgresql
from .extensions import db
from .models import ContactPoint, Customer, CustomerTag, Purchase, Tag

RESULT_LIMIT = 20
RESULT_COLUMNS = (Customer.id, Customer.display_name, Customer.purchase_count)
# Matches are ranked only within a bounded candidate set: ranking or counting an unbounded
# match set ("a", "gmail") costs hundreds of milliseconds at a million customers.
CANDIDATE_LIMIT = 50
COUNT_CAP = 1000

_EXTRA_FOLDS = str.maketrans(
    {"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ħ": "h", "ı": "i", "þ": "th", "ð": "d"}
)
_WORD = re.compile(r"\w+")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2FFFF
        or 0xF900 <= code <= 0xFAFF
    )


def fold(text: str) -> str:
    """Case-fold, strip accents and map the letters NFKD leaves alone (ł, ø...)."""
    if text.isascii():
        return text.lower()  # the same result, without the Unicode work (imports fold millions)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_EXTRA_FOLDS)


def words(text: str) -> list[str]:
    """Folded words, with every Han character a word of its own."""
    folded = fold(text).replace("_", " ")
    if not _HAN.search(folded):
        return _WORD.findall(folded)
    result = []
    for word in _WORD.findall(folded):
        run = []
        for char in word:
            if is_han(char):
                if run:
                    result.append("".join(run))
                    run = []
                result.append(char)
            else:
                run.append(char)
        if run:
            result.append("".join(run))
    return result


def phone_forms(e164: str) -> list[str]:
    """Digit strings a phone is typed as: with country code, and nationally with a 0."""
    digits = re.sub(r"\D", "", e164)
    forms = [digits]
    # Country codes are prefix-free: the first 1-3 digits that are one split the number
    # (as phonenumbers.parse does, several times faster; imports index millions).
    for length in (1, 2, 3):
        if int(digits[:length] or 0) in COUNTRY_CODE_TO_REGION_CODE and digits[length:]:
            forms.append("0" + str(int(digits[length:])))
            break
    return forms


def customer_tokens(
    names: Iterable[str], emails: Iterable[str], phones: Iterable[str], tags: Iterable[str]
) -> str:
    """The search_tokens value for a customer (phones in E.164): every suffix of every word."""
    phone_texts = [form for e164 in phones for form in phone_forms(e164)]
    # A display name repeats the given and family names: take each word's suffixes once.
    unique = dict.fromkeys(
        word for text in [*names, *emails, *tags, *phone_texts] for word in _cached_words(text)
    )
    suffixes = dict.fromkeys(word[start:] for word in unique for start in range(len(word)))
    return " ".join(suffixes)


@lru_cache(maxsize=16384)
def _cached_words(text: str) -> tuple[str, ...]:
    """words(), remembered for the names, domains and tags an import repeats thousands of times."""
    return tuple(words(text))


def query_terms(query: str) -> list[str]:
    """The prefix terms a query asks for; empty when it holds nothing searchable."""
    return words(query)[:8]


# --- keeping the index in step ------------------------------------------------------------


def refresh(customer_ids: Iterable[int]) -> None:
    """Recompute search_tokens for these customers from their current rows.

    Call it inside the same transaction as the change (the index follows the column).
    Erased and merged-away records get no tokens: the index holds only findable people.
    """
    ids = list(set(customer_ids))
    if not ids:
        return
    gone = Customer.select(Customer.id).where(
        Customer.id.in_(ids)
        & (Customer.erased_at.is_null(False) | Customer.merged_into.is_null(False))
    )
    Customer.update(search_tokens="").where(Customer.id.in_(gone)).execute()
    ids = [cid for cid in ids if cid not in {c.id for c in gone}]
    values = {cid: {"names": [], "emails": [], "phones": [], "tags": []} for cid in ids}
    for customer in Customer.select(
        Customer.id,
        Customer.given_name,
        Customer.family_name,
        Customer.display_name,
        Customer.company,
    ).where(Customer.id.in_(ids)):
        values[customer.id]["names"] += [
            customer.display_name,
            customer.given_name,
            customer.family_name,
            customer.company,
        ]
    for point in ContactPoint.select().where(ContactPoint.customer.in_(ids)):
        if point.kind == "email":
            values[point.customer_id]["emails"].append(point.normalized)
        else:
            values[point.customer_id]["phones"].append(point.normalized)
    for link in (
        CustomerTag.select(CustomerTag.customer, Tag.name)
        .join(Tag)
        .where(CustomerTag.customer.in_(ids))
    ):
        values[link.customer_id]["tags"].append(link.tag.name)
    for cid, parts in values.items():
        Customer.update(search_tokens=customer_tokens(**parts)).where(Customer.id == cid).execute()


@contextmanager
def indexed_in_one_go(new_customers):
    """Index customers bulk-inserted inside the caller's transaction in one statement at the end.

    `new_customers` is a condition on Customer selecting the rows inserted meanwhile. On
    SQLite the per-row insert trigger is dropped for the duration and the rows are added to
    the FTS index at once (less than half the time for 100,000 customers); the drop belongs
    to the transaction, so a failure or a killed process rolls it back with the rows.
    PostgreSQL's index follows the column by itself.
    """
    if is_postgresql(db):
        yield
        return
    (trigger,) = db.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'customer_search_insert'"
    ).fetchone()
    db.execute_sql("DROP TRIGGER customer_search_insert")
    yield
    rows, params = Customer.select(Customer.id, Customer.search_tokens).where(new_customers).sql()
    db.execute_sql(f"INSERT INTO customer_search (rowid, search_tokens) {rows}", params)
    db.execute_sql(trigger)


# --- asking ---------------------------------------------------------------------------------


class Match(NamedTuple):
    """A customer as a result row shows them (a full model costs more than the search)."""

    id: int
    display_name: str
    purchase_count: int

    @property
    def kind(self) -> str:
        return "customer" if self.purchase_count else "lead"


@dataclass
class SearchResult:
    customers: list[Match]
    total: int  # capped at COUNT_CAP + 1 ("1,000+")
    receipt_matches: dict[int, str]

    @property
    def total_is_capped(self) -> bool:
        return self.total > COUNT_CAP


# SQLite: FTS5 returns matches newest first straight from the index, cheaply even for broad
# fragments. Of several fragments, a rare one goes to the index alone: in "wp exam" FTS5 would
# otherwise read the whole doclist of "exam" (every demo address) to intersect it, 2 ms where
# the rest takes 0.1. The others are tested on the token list, the same test as the index's
# (every suffix of every word is a token, so a fragment found anywhere starts some token).
_FTS_MATCH_SQL = (
    "SELECT c.id, c.display_name, c.purchase_count FROM customer_search AS s "
    "JOIN customer AS c ON c.id = s.rowid WHERE customer_search MATCH ?{like} "
    "AND c.erased_at IS NULL AND c.merged_into_id IS NULL ORDER BY s.rowid DESC LIMIT ?"
)
# Erased and merged records carry no tokens, so the index alone counts findable people.
_FTS_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM customer_search AS s "
    "JOIN customer AS c ON c.id = s.rowid WHERE customer_search MATCH ?{like} LIMIT ?)"
)
_FTS_TERM_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM customer_search WHERE customer_search MATCH ? LIMIT ?)"
)


def _fts_index_terms(terms: list[str]) -> list[str]:
    """The terms to ask the index for: the rarest alone when it is rare (each is counted only
    up to the cap, 0.1-0.4 ms); when every term is common, all of them."""
    if len(terms) == 1:
        return terms
    counts = [
        (db.execute_sql(_FTS_TERM_COUNT_SQL, (f'"{t}"*', COUNT_CAP + 1)).fetchone()[0], t)
        for t in terms
    ]
    fewest, rarest = min(counts)
    return [rarest] if fewest <= COUNT_CAP else terms


def _fts_candidates(terms: list[str], limit: int) -> tuple[list[Match], int]:
    indexed = _fts_index_terms(terms)
    others = [term for term in terms if term not in indexed]
    like = "".join(" AND c.search_tokens LIKE ?" for _ in others)
    expression = " AND ".join(f'"{term}"*' for term in indexed)
    params = [expression, *(f"%{term}%" for term in others)]
    rows = db.execute_sql(_FTS_MATCH_SQL.format(like=like), (*params, limit)).fetchall()
    if len(rows) < limit:
        return [Match(*row) for row in rows], len(rows)
    sql = _FTS_COUNT_SQL.format(like=like)
    total = db.execute_sql(sql, (*params, COUNT_CAP + 1)).fetchone()[0]
    return [Match(*row) for row in rows], total


# PostgreSQL: the GIN index finds a rare fragment at once, but hands back its matches in no
# useful order, so all of them are fetched before the newest can be picked: for a broad
# fragment ("a", "gmail") that is most of the table. So the newest customers are scanned
# first, a bounded number of rows by primary key: a broad fragment fills the page there and
# the index is asked only about the rest. A substring test on the token list is the same
# test as the index's (every suffix of every word is a token, so a fragment found anywhere
# in the list starts some token).
PG_RECENT_ROWS = 3000
PG_COUNT_ROWS = 12_000
_ACTIVE = "erased_at IS NULL AND merged_into_id IS NULL"
_PG_TSVECTOR = "array_to_tsvector(string_to_array(search_tokens, ' '))"


def _pg_like(terms: list[str]) -> tuple[str, list[str]]:
    # Terms are folded words: letters and digits only, so no LIKE wildcard can sneak in.
    return " AND ".join("search_tokens LIKE %s" for _ in terms), [f"%{t}%" for t in terms]


def _pg_recent(terms: list[str], rows: int, limit: int, *, below: int | None = None) -> list:
    like, params = _pg_like(terms)
    window = "WHERE id < %s " if below is not None else ""
    sql = (
        "SELECT id, display_name, purchase_count FROM ("
        "SELECT id, display_name, purchase_count, search_tokens, erased_at, merged_into_id "
        f"FROM customer {window}ORDER BY id DESC LIMIT %s) AS recent "
        f"WHERE {like} AND {_ACTIVE} ORDER BY id DESC LIMIT %s"
    )
    args = ([below] if below is not None else []) + [rows, *params, limit]
    return db.execute_sql(sql, args).fetchall()


def _pg_rarest(terms: list[str]) -> list[str]:
    """The one term the index should look up: the rarest among the newest customers.

    In "wp exam" the index would otherwise intersect the short list of "wp" with the
    near-million entries of "exam"; looked up alone, "wp" is fast and the heap test checks
    the rest.
    """
    if len(terms) == 1:
        return terms
    like = ", ".join("count(*) FILTER (WHERE search_tokens LIKE %s)" for _ in terms)
    sql = (
        f"SELECT {like} FROM (SELECT search_tokens FROM customer "
        "ORDER BY id DESC LIMIT %s) AS recent"
    )
    counts = db.execute_sql(sql, [*(f"%{t}%" for t in terms), PG_RECENT_ROWS]).fetchone()
    return [min(zip(counts, terms, strict=True))[1]]


def _pg_indexed(terms: list[str], below: int, limit: int) -> list:
    """Up to `limit` matches older than `below`, through the GIN index (in no useful order:
    the caller sorts). A materialised CTE keeps the planner from trading the index for a
    primary-key walk."""
    query = " & ".join(f"'{term}':*" for term in _pg_rarest(terms))
    like, params = _pg_like(terms)
    sql = (
        "WITH found AS MATERIALIZED (SELECT id, display_name, purchase_count FROM customer "
        f"WHERE {_PG_TSVECTOR} @@ to_tsquery('simple', %s) AND {like} "
        f"AND id < %s AND {_ACTIVE} LIMIT %s) "
        "SELECT id, display_name, purchase_count FROM found ORDER BY id DESC"
    )
    return db.execute_sql(sql, (query, *params, below, limit)).fetchall()


def _pg_boundary(rows: int) -> int:
    """The smallest id among the newest `rows` customers (every id at or above was scanned)."""
    sql = "SELECT min(id) FROM (SELECT id FROM customer ORDER BY id DESC LIMIT %s) AS recent"
    return db.execute_sql(sql, (rows,)).fetchone()[0] or 0


def _pg_candidates(terms: list[str], limit: int) -> tuple[list[Match], int]:
    recent = _pg_recent(terms, PG_RECENT_ROWS, limit)
    if len(recent) == limit:
        # A broad fragment fills the page among the newest customers. Count on down the
        # newest rows until the cap; only a fragment thinner than that asks the index.
        counted = _pg_recent(terms, PG_COUNT_ROWS, COUNT_CAP + 1)
        if len(counted) <= COUNT_CAP:
            boundary = _pg_boundary(PG_COUNT_ROWS)
            counted += _pg_indexed(terms, boundary, COUNT_CAP + 1 - len(counted))
        return [Match(*row) for row in recent], len(counted)
    # A rarer fragment: the index holds the rest; up to the cap, the order and count are
    # exact. Beyond it the index's share is whichever rows it met first (physical order), not
    # necessarily the newest: walking on down by id to find those cost 30-60 ms at a million
    # customers, for an answer that says "more than 1,000, keep typing" anyway.
    boundary = _pg_boundary(PG_RECENT_ROWS)
    wanted = COUNT_CAP + 1 - len(recent)
    older = _pg_indexed(terms, boundary, wanted) if wanted > 0 else []
    rows = [*recent, *older]
    return [Match(*row) for row in rows[:limit]], len(rows)


def _candidates(terms: list[str], limit: int) -> tuple[list[Match], int]:
    """Up to `limit` matches, newest first, and how many match (up to COUNT_CAP + 1)."""
    if is_postgresql(db):
        return _pg_candidates(terms, limit)
    return _fts_candidates(terms, limit)


def _receipt_matches(query: str) -> dict[int, str]:
    """Customers whose receipt number starts with the query (receipts are typed off paper)."""
    text = query.strip()
    if len(text) < 4 or not any(c.isdigit() for c in text):
        return {}
    rows = (
        Purchase.select(Purchase.customer, Purchase.receipt_number)
        .where((Purchase.receipt_number >= text) & (Purchase.receipt_number < text + "\uffff"))
        .limit(RESULT_LIMIT)
    )
    return {row.customer_id: row.receipt_number for row in rows}


def _rank(customer: Match, first_term: str) -> int:
    """Names starting with the query first, then a word of the name starting with it."""
    name = fold(customer.display_name)
    if name.startswith(first_term):
        return 0
    return 1 if f" {first_term}" in name else 2


def find(query: str, limit: int = RESULT_LIMIT) -> SearchResult:
    """Customers matching every fragment of the query, best first; at most `limit`."""
    terms = query_terms(query)
    receipts = _receipt_matches(query)
    if not terms and not receipts:
        return SearchResult([], 0, {})
    candidates, total = _candidates(terms, CANDIDATE_LIMIT) if terms else ([], 0)
    # sort() is stable: within a rank, newest first as the index returned them
    candidates.sort(key=lambda c: _rank(c, terms[0]))
    by_receipt = (
        [
            Match(*row)
            for row in Customer.active()
            .select(*RESULT_COLUMNS)
            .where(Customer.id.in_(list(receipts)))
            .tuples()
        ]
        if receipts
        else []
    )
    customers = list({c.id: c for c in [*by_receipt, *candidates]}.values())[:limit]
    return SearchResult(customers, max(total, len(customers)), receipts)


def primary_contacts(customers: list[Match]) -> dict[int, dict[str, str]]:
    """The first e-mail and phone of each customer, in one query, for result rows."""
    contacts: dict[int, dict[str, str]] = {c.id: {} for c in customers}
    if not contacts:
        return contacts
    points = (
        ContactPoint.select(ContactPoint.customer, ContactPoint.kind, ContactPoint.value)
        .where(ContactPoint.customer.in_(list(contacts)))
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .tuples()
    )
    for customer_id, kind, value in points:
        contacts[customer_id].setdefault(kind, value)
    return contacts
