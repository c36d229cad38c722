"""Business settings stored in the Setting table, with defaults for a fresh installation."""

import json

from .db import write_transaction
from .extensions import db
from .models import Setting, utcnow

DEFAULTS = {
    "business_name": "Kartoteka demo shop",
    "currency": "EUR",
    # The record of processing and data reports (portal/processing.py).
    "business_address": "",
    "privacy_contact": "",  # where people send privacy requests: an e-mail or postal address
    "processing_recipients": [],  # empty: the usual recipients of a small shop are listed
    "processing_security_measures": [],  # the owner's own, after Kartoteka's built-in ones
    "processing_transfers": "",  # transfers outside the EEA as the owner describes them; "" = none
    "default_phone_region": "PL",
    # Privacy (SPEC 6): retention periods and the legal clock for customers' requests.
    "retention_lead_months": 12,  # leads without consent, after their last activity
    "retention_customer_years": 6,  # customers, after their last purchase
    "request_deadline_days": 30,  # access, correction and erasure requests: one month
    "erasure_grace_days": 14,  # between a confirmed erasure request and its execution
    # Complaints: their clocks count business hours only (portal/business_hours.py).
    # Weekday (Monday=0) → [opens, closes] in the business time zone, or None when closed.
    "opening_hours": {
        "0": ["09:00", "18:00"],
        "1": ["09:00", "18:00"],
        "2": ["09:00", "18:00"],
        "3": ["09:00", "18:00"],
        "4": ["09:00", "18:00"],
        "5": ["10:00", "14:00"],
        "6": None,
    },
    "holidays": [],  # ISO dates the business is closed, e.g. "2026-12-25"
    # Severity → [first response, resolution] in business hours.
    "complaint_response_hours": {
        "low": [24, 80],
        "medium": [8, 40],
        "high": [4, 16],
        "critical": [1, 8],
    },
}


def get(key: str):
    row = Setting.get_or_none(Setting.key == key)
    return json.loads(row.value) if row else DEFAULTS.get(key)


def put_changed(values: dict) -> list[str]:
    """Store the values that differ from the stored ones, in one transaction; return their keys
    (what a settings page audits)."""
    changed = [key for key, value in values.items() if value != get(key)]
    with write_transaction(db):
        for key in changed:
            put(key, values[key])
    return changed


def put(key: str, value) -> None:
    (
        Setting.insert(key=key, value=json.dumps(value), updated_at=utcnow())
        .on_conflict(
            conflict_target=[Setting.key],
            update={Setting.value: json.dumps(value), Setting.updated_at: utcnow()},
        )
        .execute()
    )
