"""Consent: purposes with versioned wording, and append-only grant and withdrawal events.

A customer's current consent for a purpose is their latest event for it (ties on the time are
broken by the event id). Events are only ever inserted; wording versions are only ever added.
"""

from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, IntegrityError, fn

from . import audit
from .db import write_transaction
from .extensions import db
from .models import ConsentEvent, ConsentPurpose, ConsentWording, Customer, StaffAccount, utcnow

LANGUAGES = ("en", "ru", "pl", "zh")
# How staff can say consent reached the shop; "unsubscribe_link" is written only by the link.
STAFF_CHANNELS = ("paper_form", "verbal", "web_form", "self_service", "import")
EVIDENCE_MAX_LENGTH = 500
TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000
CODE_MAX_LENGTH = 60


class ConsentError(ValueError):
    """A consent write that the rules refuse (unknown purpose, version or channel...)."""


class PurposeExists(ConsentError):
    pass


class WordingUnchanged(ConsentError):
    pass


# --- Current state, as conditions on Customer --------------------------------------------


def _events_for(purpose_id: int, alias):
    return alias.select(alias.id).where(
        (alias.customer == Customer.id) & (alias.purpose == purpose_id)
    )


def granted_now(purpose_id: int):
    """A condition on Customer: their latest event for this purpose is a grant."""
    latest = ConsentEvent.alias("latest")
    later = ConsentEvent.alias("later")
    newer_event = later.select(later.id).where(
        (later.customer == latest.customer)
        & (later.purpose == latest.purpose)
        & (
            (later.occurred_at > latest.occurred_at)
            | ((later.occurred_at == latest.occurred_at) & (later.id > latest.id))
        )
    )
    latest_grant = _events_for(purpose_id, latest).where(latest.granted & ~fn.EXISTS(newer_event))
    return fn.EXISTS(latest_grant)


def never_asked(purpose_id: int):
    """A condition on Customer: no event at all for this purpose."""
    return ~fn.EXISTS(_events_for(purpose_id, ConsentEvent.alias("any_event")))


def withdrawn_now(purpose_id: int):
    """A condition on Customer: asked at least once, and the latest event is not a grant."""
    return ~never_asked(purpose_id) & ~granted_now(purpose_id)


# --- Purposes and their wording ----------------------------------------------------------


def _ordered_purposes(active_only: bool):
    query = ConsentPurpose.select().order_by(ConsentPurpose.position, ConsentPurpose.id)
    return query.where(ConsentPurpose.active) if active_only else query


def titles(language: str, *, active_only: bool = True) -> dict[int, str]:
    """Each purpose's newest title in this language (English, else its code, when missing)."""
    purposes = list(_ordered_purposes(active_only))
    wordings = (
        ConsentWording.select(ConsentWording.purpose, ConsentWording.language, ConsentWording.title)
        .where(ConsentWording.language.in_([language, "en"]))
        .order_by(ConsentWording.version)
    )
    by_purpose: dict[int, dict[str, str]] = {}
    for wording in wordings:
        by_purpose.setdefault(wording.purpose_id, {})[wording.language] = wording.title
    result = {}
    for purpose in purposes:
        known = by_purpose.get(purpose.id, {})
        result[purpose.id] = known.get(language) or known.get("en") or purpose.code
    return result


def purpose_titles(language: str) -> dict[int, str]:
    """Each active purpose's title in this language (English, else its code, when missing)."""
    return titles(language)


def current_versions() -> dict[int, int]:
    """The newest wording version of every purpose."""
    rows = ConsentWording.select(
        ConsentWording.purpose, fn.MAX(ConsentWording.version).alias("newest")
    ).group_by(ConsentWording.purpose)
    return {row.purpose_id: row.newest for row in rows}


def all_versions() -> dict[int, list[int]]:
    """Every purpose's wording versions, newest first."""
    rows = (
        ConsentWording.select(ConsentWording.purpose, ConsentWording.version)
        .distinct()
        .order_by(ConsentWording.purpose, ConsentWording.version.desc())
        .tuples()
    )
    versions: dict[int, list[int]] = {}
    for purpose_id, version in rows:
        versions.setdefault(purpose_id, []).append(version)
    return versions


def versions_of(purpose_id: int) -> list[int]:
    """The wording versions of a purpose, newest first."""
    rows = (
        ConsentWording.select(ConsentWording.version)
        .where(ConsentWording.purpose == purpose_id)
        .distinct()
        .order_by(ConsentWording.version.desc())
    )
    return [row.version for row in rows]


def wording(purpose_id: int, version: int, language: str) -> ConsentWording | None:
    """The wording of this version in the language, else in English (always written)."""
    rows = ConsentWording.select().where(
        (ConsentWording.purpose == purpose_id)
        & (ConsentWording.version == version)
        & ConsentWording.language.in_([language, "en"])
    )
    found = {row.language: row for row in rows}
    return found.get(language) or found.get("en")


def version_history(purpose_id: int) -> list[tuple[int, dict[str, ConsentWording]]]:
    """Every version of a purpose's wording, newest first, by language."""
    rows = (
        ConsentWording.select()
        .where(ConsentWording.purpose == purpose_id)
        .order_by(ConsentWording.version.desc())
    )
    versions: dict[int, dict[str, ConsentWording]] = {}
    for row in rows:
        versions.setdefault(row.version, {})[row.language] = row
    return list(versions.items())


@dataclass
class PurposeSummary:
    purpose: ConsentPurpose
    version: int
    titles: dict[str, str]  # language → title of the current version


def purpose_summaries() -> list[PurposeSummary]:
    """Every purpose (active first) with its current version and that version's titles."""
    newest = current_versions()
    titles_by_purpose: dict[int, dict[str, str]] = {}
    for row in ConsentWording.select(
        ConsentWording.purpose,
        ConsentWording.version,
        ConsentWording.language,
        ConsentWording.title,
    ):
        if row.version == newest.get(row.purpose_id):
            titles_by_purpose.setdefault(row.purpose_id, {})[row.language] = row.title
    purposes = ConsentPurpose.select().order_by(
        ConsentPurpose.active.desc(), ConsentPurpose.position, ConsentPurpose.id
    )
    return [
        PurposeSummary(p, newest.get(p.id, 0), titles_by_purpose.get(p.id, {})) for p in purposes
    ]


def _wording_rows(purpose_id: int, version: int, texts: dict[str, tuple[str, str]]) -> list:
    """Rows for the languages given a title and text; English is required."""
    cleaned = {
        language: (title.strip(), text.strip())
        for language, (title, text) in texts.items()
        if language in LANGUAGES and (title or "").strip() and (text or "").strip()
    }
    if "en" not in cleaned:
        raise ConsentError("a purpose needs an English title and text")
    now = utcnow()
    return [
        {
            "purpose": purpose_id,
            "version": version,
            "language": language,
            "title": title[:TITLE_MAX_LENGTH],
            "text": text,
            "created_at": now,
        }
        for language, (title, text) in cleaned.items()
    ]


def create_purpose(
    code: str,
    texts: dict[str, tuple[str, str]],
    *,
    actor_id: int | None = None,
    ip_address: str = "",
) -> ConsentPurpose:
    """A new purpose with version 1 of its wording (title and text per language). Audited."""
    code = code.strip().lower()
    if not code or len(code) > CODE_MAX_LENGTH:
        raise ConsentError("a purpose needs a code of at most 60 characters")
    try:
        with write_transaction(db):
            position = ConsentPurpose.select(fn.MAX(ConsentPurpose.position)).scalar() or 0
            purpose = ConsentPurpose.create(code=code, position=position + 1)
            ConsentWording.insert_many(_wording_rows(purpose.id, 1, texts)).execute()
            _audit("consent_purpose_created", actor_id, ip_address, purpose_id=purpose.id)
    except IntegrityError as exc:
        raise PurposeExists(code) from exc
    return purpose


def new_version(
    purpose_id: int,
    texts: dict[str, tuple[str, str]],
    *,
    actor_id: int | None = None,
    ip_address: str = "",
) -> int:
    """Add the next version of a purpose's wording; earlier versions stay as they were."""
    with write_transaction(db):
        newest = (
            ConsentWording.select(fn.MAX(ConsentWording.version))
            .where(ConsentWording.purpose == purpose_id)
            .scalar()
        ) or 0
        version = newest + 1
        rows = _wording_rows(purpose_id, version, texts)
        current = {
            w.language: (w.title, w.text)
            for w in ConsentWording.select().where(
                (ConsentWording.purpose == purpose_id) & (ConsentWording.version == newest)
            )
        }
        if current == {row["language"]: (row["title"], row["text"]) for row in rows}:
            raise WordingUnchanged(purpose_id)
        ConsentWording.insert_many(rows).execute()
        _audit(
            "consent_wording_versioned",
            actor_id,
            ip_address,
            purpose_id=purpose_id,
            version=version,
            languages=sorted(row["language"] for row in rows),
        )
    return version


def set_active(
    purpose_id: int, active: bool, *, actor_id: int | None = None, ip_address: str = ""
) -> None:
    """Stop (or resume) asking for a purpose; its events and wording stay."""
    with write_transaction(db):
        ConsentPurpose.update(active=active).where(ConsentPurpose.id == purpose_id).execute()
        action = "consent_purpose_reactivated" if active else "consent_purpose_deactivated"
        _audit(action, actor_id, ip_address, purpose_id=purpose_id)


def _audit(action: str, actor_id: int | None, ip_address: str, **details) -> None:
    audit.record(
        action,
        actor_type="staff" if actor_id else "system",
        actor_id=actor_id,
        target_type="consent_purpose",
        target_id=details.get("purpose_id"),
        ip_address=ip_address,
        **details,
    )


# --- Events ------------------------------------------------------------------------------


def record(
    customer_id: int,
    purpose_id: int,
    *,
    granted: bool,
    wording_version: int,
    channel: str,
    evidence: str = "",
    recorded_by_type: str = "staff",
    staff_id: int | None = None,
    occurred_at: datetime | None = None,
    ip_address: str = "",
) -> ConsentEvent:
    """Append one grant or withdrawal for an active purpose and a version it has. Audited."""
    evidence = (evidence or "").strip()
    if channel not in ConsentEvent.CHANNELS:
        raise ConsentError(f"unknown channel {channel!r}")
    if len(evidence) > EVIDENCE_MAX_LENGTH:
        raise ConsentError("evidence is too long")
    purpose = ConsentPurpose.get_or_none((ConsentPurpose.id == purpose_id) & ConsentPurpose.active)
    if purpose is None:
        raise ConsentError(f"no active purpose {purpose_id!r}")
    if wording_version not in versions_of(purpose.id):
        raise ConsentError(f"purpose {purpose_id} has no version {wording_version!r}")
    with write_transaction(db):
        event = ConsentEvent.create(
            customer=customer_id,
            purpose=purpose.id,
            wording_version=wording_version,
            granted=bool(granted),
            channel=channel,
            recorded_by_type=recorded_by_type,
            recorded_by_staff=staff_id,
            evidence=evidence,
            occurred_at=occurred_at or utcnow(),
        )
        audit.record(
            "consent_recorded",
            actor_type=recorded_by_type,
            actor_id=staff_id if recorded_by_type == "staff" else customer_id,
            target_type="customer",
            target_id=customer_id,
            ip_address=ip_address,
            purpose_id=purpose.id,
            granted=bool(granted),
            event_id=event.id,
        )
    return event


def latest_events(customer_id: int) -> dict[int, ConsentEvent]:
    """The latest event per purpose for one customer: their current consent."""
    events = (
        ConsentEvent.select()
        .where(ConsentEvent.customer == customer_id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    )
    return {event.purpose_id: event for event in events}


@dataclass
class PurposeState:
    purpose_id: int
    title: str
    state: str  # granted, withdrawn, never_asked
    event: ConsentEvent | None


def states(customer_id: int, language: str) -> list[PurposeState]:
    """The customer's current consent for every active purpose, in the purposes' order."""
    latest = latest_events(customer_id)
    result = []
    for purpose_id, title in titles(language).items():
        event = latest.get(purpose_id)
        state = "never_asked" if event is None else "granted" if event.granted else "withdrawn"
        result.append(PurposeState(purpose_id, title, state, event))
    return result


def history(customer_id: int) -> list[ConsentEvent]:
    """Every consent event of a customer, newest first, with who recorded it."""
    return list(
        ConsentEvent.select(ConsentEvent, StaffAccount.name)
        .join(StaffAccount, JOIN.LEFT_OUTER)
        .where(ConsentEvent.customer == customer_id)
        .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
    )


# --- Statistics --------------------------------------------------------------------------


def statistics(language: str) -> list[dict]:
    """Current consent over active customers, per active purpose: granted, withdrawn, never asked."""
    ranked = (
        ConsentEvent.select(
            ConsentEvent.purpose,
            ConsentEvent.granted,
            fn.ROW_NUMBER()
            .over(
                partition_by=[ConsentEvent.customer, ConsentEvent.purpose],
                order_by=[ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc()],
            )
            .alias("rank"),
        )
        .join(Customer)
        .where(Customer.erased_at.is_null() & Customer.merged_into.is_null())
        .alias("ranked")
    )
    latest = (
        ConsentEvent.select(ranked.c.purpose_id, ranked.c.granted, fn.COUNT(1).alias("customers"))
        .from_(ranked)
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.purpose_id, ranked.c.granted)
        .tuples()
    )
    counts: dict[int, dict[str, int]] = {}
    for purpose_id, granted, customers in latest:
        counts.setdefault(purpose_id, {})["granted" if granted else "withdrawn"] = customers
    population = Customer.active().count()
    result = []
    for purpose_id, title in titles(language).items():
        granted = counts.get(purpose_id, {}).get("granted", 0)
        withdrawn = counts.get(purpose_id, {}).get("withdrawn", 0)
        result.append(
            {
                "purpose_id": purpose_id,
                "title": title,
                "granted": granted,
                "withdrawn": withdrawn,
                "never_asked": population - granted - withdrawn,
            }
        )
    return result
