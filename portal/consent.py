"""Consent: the current state of a purpose is the latest event for it (events are append-only)."""

from peewee import fn

from .models import ConsentEvent, Customer


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


def purpose_titles(language: str) -> dict[int, str]:
    """Each active purpose's title in this language (English, else its code, when missing)."""
    from .models import ConsentPurpose, ConsentWording

    titles: dict[int, str] = {}
    purposes = list(
        ConsentPurpose.select()
        .where(ConsentPurpose.active)
        .order_by(ConsentPurpose.position, ConsentPurpose.id)
    )
    wordings = (
        ConsentWording.select()
        .where(ConsentWording.language.in_([language, "en"]))
        .order_by(ConsentWording.version)
    )
    by_purpose: dict[int, dict[str, str]] = {}
    for wording in wordings:
        by_purpose.setdefault(wording.purpose_id, {})[wording.language] = wording.title
    for purpose in purposes:
        known = by_purpose.get(purpose.id, {})
        titles[purpose.id] = known.get(language) or known.get("en") or purpose.code
    return titles
