"""The owner sets the opening hours, holidays and response times complaint clocks count from."""

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.support import Translations
from markupsafe import escape

from portal import settings
from portal.business_hours import due_after, response_hours
from portal.models import AuditEvent
from tests.conftest import csrf_token_from

PAGE = "/owner/settings/complaints"
CATALOGS = Path(__file__).resolve().parent.parent / "translations"
KEYS = ("opening_hours", "holidays", "complaint_response_hours")


def form_data(**changes) -> dict:
    """What the page posts for the default settings, with some fields changed."""
    data = {}
    for day, hours in settings.DEFAULTS["opening_hours"].items():
        data[f"opens_{day}"], data[f"closes_{day}"] = hours or ("", "")
    for severity, (first, resolution) in settings.DEFAULTS["complaint_response_hours"].items():
        data[f"first_response_{severity}"] = str(first)
        data[f"resolution_{severity}"] = str(resolution)
    data["holidays"] = ""
    data.update(changes)
    return data


def post(client, data, **kwargs):
    token = csrf_token_from(client, PAGE)
    return client.post(PAGE, data={**data, "csrf_token": token}, **kwargs)


def settings_audits():
    return [
        json.loads(event.details)
        for event in AuditEvent.select().where(AuditEvent.action == "settings_changed")
    ]


def test_the_page_shows_the_current_settings(owner_client):
    html = owner_client.get(PAGE).get_data(as_text=True)
    assert re.search(r'id="opens_0"[^>]*value="09:00"', html)
    assert re.search(r'id="closes_5"[^>]*value="14:00"', html)  # Saturday
    assert re.search(r'id="opens_6"[^>]*value=""', html)  # Sunday: closed
    assert re.search(r'id="first_response_critical"[^>]*value="1"', html)
    assert "Monday" in html and "Sunday" in html


def test_owner_saves_the_settings_and_new_due_dates_follow(app, owner_client):
    response = post(
        owner_client,
        form_data(
            opens_5="",
            closes_5="",  # Saturday now closed
            holidays="2026-12-25\n\n2026-12-24\n2026-12-25\n",
            first_response_high="2,5",  # a decimal comma, as Polish and Russian write it
            resolution_high="12",
        ),
    )
    assert response.status_code == 303
    assert settings.get("opening_hours")["5"] is None
    assert settings.get("opening_hours")["0"] == ["09:00", "18:00"]
    assert settings.get("holidays") == ["2026-12-24", "2026-12-25"]  # sorted, once each
    assert response_hours("high") == (2.5, 12.0)
    with app.app_context():
        # Wednesday 23 December 17:00 UTC + 2 h: Thursday, Friday holidays, Saturday closed now.
        assert due_after(datetime(2026, 12, 23, 17, 0), 2) == datetime(2026, 12, 28, 10, 0)
    # The audit names what changed and holds no values.
    assert settings_audits() == [{"fields": list(KEYS)}]
    assert "Complaint settings saved" in owner_client.get(PAGE).get_data(as_text=True)


def test_saving_unchanged_settings_audits_nothing(owner_client):
    assert post(owner_client, form_data()).status_code == 303
    assert settings_audits() == []
    assert post(owner_client, form_data(holidays="2027-01-01")).status_code == 303
    assert settings_audits() == [{"fields": ["holidays"]}]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"opens_1": "25:00"}, "opens_1", "Enter a time like 09:00 or 17:30."),
        ({"closes_2": "9am"}, "closes_2", "Enter a time like 09:00 or 17:30."),
        (
            {"opens_3": "18:00", "closes_3": "09:00"},
            "closes_3",
            "Closing time must be after opening time.",
        ),
        (
            {"opens_4": "12:00", "closes_4": "12:00"},
            "closes_4",
            "Closing time must be after opening time.",
        ),
        (
            {"opens_6": "10:00"},
            "closes_6",
            "Enter both times, or leave both empty when the business is closed that day.",
        ),
        (
            {"holidays": "2026-12-24\n24.12.2026"},
            "holidays",
            "Line 2 is not a date: write one date per line, like 2026-12-25.",
        ),
        ({"holidays": "2026-02-30"}, "holidays", "Line 1 is not a date"),
        ({"first_response_low": "0"}, "first_response_low", "Enter a number of hours above 0"),
        ({"resolution_medium": "-4"}, "resolution_medium", "Enter a number of hours above 0"),
        ({"first_response_high": "soon"}, "first_response_high", "Enter a number of hours, like 8"),
        ({"resolution_critical": ""}, "resolution_critical", "Enter a number of hours."),
        (
            {"first_response_low": "100", "resolution_low": "80"},
            "resolution_low",
            "Enter at least as many hours as for the first response.",
        ),
        (
            {f"{edge}_{day}": "" for day in range(7) for edge in ("opens", "closes")},
            "opens_0",
            "Open on at least one day of the week.",
        ),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_nothing_changes(
    owner_client, changes, field, message
):
    response = post(owner_client, form_data(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html) or re.search(
        rf'aria-invalid="true"[^>]*id="{field}"', html
    )
    assert all(settings.get(key) == settings.DEFAULTS[key] for key in KEYS)
    assert settings_audits() == []


def test_bad_input_is_answered_in_the_owners_language(owner_client):
    english = "Closing time must be after opening time."
    polish = Translations.load(str(CATALOGS), ["pl"]).gettext(english)  # the lead translates
    response = post(
        owner_client,
        form_data(opens_0="18:00", closes_0="09:00"),
        headers={"Accept-Language": "pl"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Poniedziałek" in html  # the page speaks Polish, weekday names included
    assert re.search(rf'id="closes_0-error">[^<]*{re.escape(str(escape(polish)))}', html)
    assert settings.get("opening_hours") == settings.DEFAULTS["opening_hours"]


def test_staff_cannot_open_or_change_the_complaint_settings(staff_client):
    assert staff_client.get(PAGE).status_code == 403
    token = csrf_token_from(staff_client, "/customers")
    response = staff_client.post(
        PAGE, data={**form_data(holidays="2026-05-01"), "csrf_token": token}
    )
    assert response.status_code == 403
    assert settings.get("holidays") == []


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
