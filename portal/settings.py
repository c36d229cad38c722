"""Business settings stored in the Setting table, with defaults for a fresh installation."""

import json

from .models import Setting, utcnow

DEFAULTS = {
    "business_name": "Kartoteka demo shop",
    "currency": "EUR",
    "default_phone_region": "PL",
    # Privacy (SPEC 6): retention periods and the legal clock for customers' requests.
    "retention_lead_months": 12,  # leads without consent, after their last activity
    "retention_customer_years": 6,  # customers, after their last purchase
    "request_deadline_days": 30,  # access, correction and erasure requests: one month
    "erasure_grace_days": 14,  # between a confirmed erasure request and its execution
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
