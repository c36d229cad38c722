"""Sensitive identifiers (national ID, tax number): validated, encrypted at rest, revealed on purpose.

Values are sealed with Fernet (AES-128-CBC with an HMAC-SHA256 tag, so a changed byte fails
authentication instead of decrypting to garbage). Keys come from ENCRYPTION_KEYS, never from
the database: the first key encrypts, every listed key decrypts. Each row names its key by a
fingerprint (`key_id`), which lets `rotate` find what is still under an old key.
"""

import hashlib
import re
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from . import audit
from .db import write_transaction
from .extensions import db
from .models import SensitiveIdentifier

KINDS = SensitiveIdentifier.KINDS
MIN_LENGTH, MAX_LENGTH = 4, 32
# Typed separators people use inside numbers: spaces (also no-break), dashes, slashes, dots.
_SEPARATORS = re.compile(r"[\s\u00a0\u202f\-\u2010-\u2015/.]")
_LETTERS_AND_DIGITS = re.compile(r"[A-Z0-9]+")
PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


# --- Errors -----------------------------------------------------------------------------


class InvalidIdentifier(ValueError):
    """Input that cannot be stored; `reason` names the rule for a precise, translated message.

    empty, characters, length, pesel_length, pesel_checksum, nip_length, nip_checksum,
    duplicate, kind.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class IdentifierKeyError(RuntimeError):
    """The keys cannot open an identifier, or are not usable at all. Never hides as a value."""


class KeyConfigurationError(IdentifierKeyError):
    """ENCRYPTION_KEYS is empty or holds something that is not a key."""


class KeyUnavailable(IdentifierKeyError):
    """The key that encrypted an identifier is not among the configured keys."""


class DecryptionFailed(IdentifierKeyError):
    """The ciphertext does not authenticate under its key: altered, or a different key by that id."""


# --- Keys -------------------------------------------------------------------------------


def key_id(key: str) -> str:
    """A short fingerprint naming a key in the database without revealing it."""
    return hashlib.sha256(b"kartoteka-key-id\0" + key.strip().encode()).hexdigest()[:16]


def generate_key() -> str:
    return Fernet.generate_key().decode()


class Keyring:
    """The configured keys: the first encrypts, all decrypt, each found by its fingerprint."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise KeyConfigurationError(
                "No encryption key is configured: set ENCRYPTION_KEYS "
                "(`flask keys generate` prints a new key)."
            )
        self._fernets: dict[str, Fernet] = {}
        for position, key in enumerate(keys, start=1):
            try:
                fernet = Fernet(key.strip())
            except (ValueError, TypeError):
                # Never echo the text: it may be a real key with a typo.
                raise KeyConfigurationError(
                    f"Entry {position} of ENCRYPTION_KEYS is not a key (32 url-safe base64 "
                    "bytes); `flask keys generate` prints a valid one."
                ) from None
            self._fernets.setdefault(key_id(key), fernet)
        self.current_id = key_id(keys[0])

    @property
    def key_ids(self) -> list[str]:
        """Fingerprints of the configured keys, the current one first."""
        return list(self._fernets)

    def encrypt(self, value: str) -> tuple[bytes, str]:
        """(ciphertext, key id) of value under the current key."""
        return self._fernets[self.current_id].encrypt(value.encode()), self.current_id

    def decrypt(self, ciphertext: bytes, under: str, *, identifier_id: int | None = None) -> str:
        """The value sealed under key `under`, or a clear error; never a guess."""
        name = f"identifier {identifier_id}" if identifier_id is not None else "the identifier"
        fernet = self._fernets.get(under)
        if fernet is None:
            raise KeyUnavailable(
                f"Cannot decrypt {name}: it was encrypted with key {under}, which is not in "
                f"ENCRYPTION_KEYS (configured: {', '.join(self.key_ids)}). Add that key back "
                "(after the current one) to read it."
            )
        try:
            return fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            raise DecryptionFailed(
                f"Cannot decrypt {name}: its ciphertext does not authenticate under key {under}. "
                "It was altered, or ENCRYPTION_KEYS holds a different key with that id."
            ) from None


def current_keyring() -> Keyring:
    """The keyring of the running app's ENCRYPTION_KEYS, built once per key list."""
    keys = tuple(current_app.config.get("ENCRYPTION_KEYS") or ())
    cached = current_app.extensions.get("kartoteka_keyring")
    if cached is None or cached[0] != keys:
        cached = (keys, Keyring(list(keys)))
        current_app.extensions["kartoteka_keyring"] = cached
    return cached[1]


# --- Validation -------------------------------------------------------------------------


def normalize(kind: str, value: str, region: str = "") -> str:
    """The identifier as stored: separators out, letters upper-case; InvalidIdentifier if wrong.

    In Poland (region PL) a number of digits only is a PESEL (national ID) or a NIP (tax
    number, also written PL1234567890) and must have their length and check digit. Letters
    mean a foreign document, which gets the general rule: 4 to 32 letters and digits.
    """
    if kind not in KINDS:
        raise InvalidIdentifier("kind")
    text = _SEPARATORS.sub("", value or "").upper()
    if not text:
        raise InvalidIdentifier("empty")
    if not _LETTERS_AND_DIGITS.fullmatch(text):
        raise InvalidIdentifier("characters")
    if region == "PL":
        if kind == "tax_number" and re.fullmatch(r"PL\d+", text):
            text = text[2:]
        if text.isdigit():
            _check_polish(kind, text)
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH:
        raise InvalidIdentifier("length")
    return text


def _check_polish(kind: str, digits: str) -> None:
    if kind == "national_id":
        if len(digits) != 11:
            raise InvalidIdentifier("pesel_length")
        total = sum(w * int(d) for w, d in zip(PESEL_WEIGHTS, digits, strict=False))
        if (10 - total % 10) % 10 != int(digits[10]):
            raise InvalidIdentifier("pesel_checksum")
    else:
        if len(digits) != 10:
            raise InvalidIdentifier("nip_length")
        total = sum(w * int(d) for w, d in zip(NIP_WEIGHTS, digits, strict=False)) % 11
        if total == 10 or total != int(digits[9]):
            raise InvalidIdentifier("nip_checksum")


# --- Use cases --------------------------------------------------------------------------


def for_customer(customer_id: int) -> list[SensitiveIdentifier]:
    """A customer's identifiers as the profile lists them: kind and last four, never ciphertext."""
    return list(
        SensitiveIdentifier.select(
            SensitiveIdentifier.id,
            SensitiveIdentifier.customer,
            SensitiveIdentifier.kind,
            SensitiveIdentifier.last_four,
        )
        .where(SensitiveIdentifier.customer == customer_id)
        .order_by(SensitiveIdentifier.id)
    )


def get(customer_id: int, identifier_id: int) -> SensitiveIdentifier | None:
    """One identifier of this customer (None when it belongs to someone else or is gone)."""
    return SensitiveIdentifier.get_or_none(
        (SensitiveIdentifier.id == identifier_id) & (SensitiveIdentifier.customer == customer_id)
    )


def add(
    customer_id: int,
    kind: str,
    value: str,
    staff_id: int | None,
    *,
    region: str = "",
    ip: str = "",
    keyring: Keyring | None = None,
) -> SensitiveIdentifier:
    """Validate, encrypt and store an identifier; audited as identifier_added (ids only)."""
    keyring = keyring or current_keyring()
    text = normalize(kind, value, region)
    if text in _readable_values(customer_id, kind, keyring):
        raise InvalidIdentifier("duplicate")
    ciphertext, under = keyring.encrypt(text)
    with write_transaction(db):
        row = SensitiveIdentifier.create(
            customer=customer_id,
            kind=kind,
            ciphertext=ciphertext,
            key_id=under,
            last_four=text[-4:],
        )
        _audit("identifier_added", row, staff_id, ip)
    return row


def reveal(
    identifier_id: int, staff_id: int | None, ip: str = "", *, keyring: Keyring | None = None
) -> str:
    """The plain value, for one staff member who asked on purpose; audited every time."""
    keyring = keyring or current_keyring()
    row = SensitiveIdentifier.get_by_id(identifier_id)
    value = keyring.decrypt(row.ciphertext, row.key_id, identifier_id=row.id)
    # Recorded before the value leaves this function: no audit event, no value.
    _audit("identifier_revealed", row, staff_id, ip)
    return value


def remove(identifier_id: int, staff_id: int | None, ip: str = "") -> None:
    """Delete an identifier (entered by mistake, or no longer needed); audited."""
    with write_transaction(db):
        row = SensitiveIdentifier.get_or_none(SensitiveIdentifier.id == identifier_id)
        if row is None:
            return
        row.delete_instance()
        _audit("identifier_removed", row, staff_id, ip)


def _audit(action: str, row: SensitiveIdentifier, staff_id: int | None, ip: str) -> None:
    audit.record(
        action,
        actor_type="staff" if staff_id else "system",
        actor_id=staff_id,
        target_type="customer",
        target_id=row.customer_id,
        ip_address=ip,
        identifier_id=row.id,
    )


def _readable_values(customer_id: int, kind: str, keyring: Keyring) -> set[str]:
    """This customer's stored values of one kind, to refuse the same number twice."""
    values = set()
    rows = SensitiveIdentifier.select().where(
        (SensitiveIdentifier.customer == customer_id) & (SensitiveIdentifier.kind == kind)
    )
    for row in rows:
        try:
            values.add(keyring.decrypt(row.ciphertext, row.key_id, identifier_id=row.id))
        except IdentifierKeyError:
            continue  # an unreadable row cannot be compared; rotation reports it
    return values


# --- Key rotation -----------------------------------------------------------------------


@dataclass
class Rotation:
    """How far a rotation has got: to do at the start, re-encrypted, and rows that failed."""

    key_id: str
    to_do: int
    rotated: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # identifier id -> reason


def key_usage() -> dict[str, int]:
    """How many identifiers each key id encrypted."""
    from peewee import fn

    query = SensitiveIdentifier.select(
        SensitiveIdentifier.key_id, fn.COUNT(SensitiveIdentifier.id).alias("n")
    ).group_by(SensitiveIdentifier.key_id)
    return {row.key_id: row.n for row in query}


def rotate(*, batch_size: int = 200, keyring: Keyring | None = None, on_batch=None) -> Rotation:
    """Re-encrypt every identifier not under the current key, one short transaction per batch.

    The app keeps running meanwhile: each transaction touches at most `batch_size` rows, and
    a row is only rewritten if it still has the key it was read with. Safe to interrupt and
    run again: it continues with what is left. `on_batch(progress)` hears after each batch.
    """
    keyring = keyring or current_keyring()
    current = keyring.current_id
    stale = SensitiveIdentifier.key_id != current
    progress = Rotation(key_id=current, to_do=SensitiveIdentifier.select().where(stale).count())
    after = 0
    while rows := _rotate_batch(keyring, stale, after, batch_size, progress):
        after = rows[-1].id
        if on_batch:
            on_batch(progress)
    if progress.to_do:
        audit.record(
            "encryption_key_rotated",
            key_id=current,
            rotated=progress.rotated,
            failed_identifier_ids=sorted(progress.failed),
        )
    return progress


def _rotate_batch(keyring, stale, after: int, size: int, progress: Rotation) -> list:
    with write_transaction(db):
        rows = list(
            SensitiveIdentifier.select(
                SensitiveIdentifier.id, SensitiveIdentifier.key_id, SensitiveIdentifier.ciphertext
            )
            .where(stale & (SensitiveIdentifier.id > after))
            .order_by(SensitiveIdentifier.id)
            .limit(size)
        )
        for row in rows:
            try:
                value = keyring.decrypt(row.ciphertext, row.key_id, identifier_id=row.id)
            except IdentifierKeyError as error:
                progress.failed[row.id] = str(error)
                continue
            ciphertext, current = keyring.encrypt(value)
            progress.rotated += (
                SensitiveIdentifier.update(ciphertext=ciphertext, key_id=current)
                .where(
                    (SensitiveIdentifier.id == row.id) & (SensitiveIdentifier.key_id == row.key_id)
                )
                .execute()
            )
    return rows
