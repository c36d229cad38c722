"""Business settings stored in the Setting table, with defaults for a fresh installation."""

import json

from .models import Setting, utcnow

DEFAULTS = {
    "business_name": "Kartoteka demo shop",
    "currency": "EUR",
    "default_phone_region": "PL",
}


def get(key: str):
    row = Setting.get_or_none(Setting.key == key)
    return json.loads(row.value) if row else DEFAULTS.get(key)


def put(key: str, value) -> None:
    (
        Setting.insert(key=key, value=json.dumps(value), updated_at=utcnow())
        .on_conflict(
            conflict_target=[Setting.key],
            update={Setting.value: json.dumps(value), Setting.updated_at: utcnow()},
        )
        .execute()
    )
