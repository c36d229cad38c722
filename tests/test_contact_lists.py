"""Contact lists for a purpose (SPEC 6 rule 2): exactly the customers whose current consent
covers the purpose, reachable on the channel; who is left out and why; an audited CSV."""

import csv
import io
import json
import re
from datetime import datetime

import pytest

from portal import consent, contact_lists, customer_list
from portal.customer_list import Filters
from portal.models import AuditEvent, ContactPoint, Customer
from tests.conftest import csrf_token_from
from tests.factories import make_customer
from tests.test_consent import SMS_TEXTS, give, make_purpose

JAN, FEB, MAR = datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1)


@pytest.fixture
def people(app):
    """Customers in every consent situation for e-mail marketing (and one for SMS only)."""
    email = make_purpose()
    sms = make_purpose("sms_marketing", SMS_TEXTS)

    def person(given, **fields):
        return make_customer(given, "Test", email=f"{given.lower()}@example.com", **fields)

    c = {
        "granted": person("Granted", preferred_language="pl", tags=("vip",)),
        "withdrew": person("Withdrew", tags=("vip",)),
        "came_back": person("Cameback", preferred_language="zh"),
        "never": person("Never", tags=("vip",)),
        "tie_grant_last": person("Tiegrant", preferred_language="ru"),
        "tie_withdraw_last": person("Tiewithdraw"),
        "erased": person("Erased", erased_at=MAR),
        "no_email": make_customer("Noemail", "Test", phone="+48601234567", tags=("vip",)),
        "sms_only": person("Smsonly"),
    }
    c["merged"] = person("Merged")
    give(c["granted"], email, True, JAN)
    give(c["withdrew"], email, True, JAN)
    give(c["withdrew"], email, False, FEB)
    give(c["came_back"], email, False, JAN)
    give(c["came_back"], email, True, FEB)
    # Same moment: the event written later (higher id) is the current one.
    give(c["tie_grant_last"], email, False, FEB)
    give(c["tie_grant_last"], email, True, FEB)
    give(c["tie_withdraw_last"], email, True, FEB)
    give(c["tie_withdraw_last"], email, False, FEB)
    give(c["erased"], email, True, JAN)
    give(c["merged"], email, True, JAN)
    c["merged"].merged_into = c["granted"].id
    c["merged"].save()
    give(c["no_email"], email, True, JAN)
    give(c["no_email"], sms, True, JAN)
    give(c["sms_only"], sms, True, JAN)
    return email, sms, c


def read_csv(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_email_list_holds_exactly_those_whose_latest_event_is_a_grant(people):
    email, _sms, c = people
    text = "".join(contact_lists.export(email, "email"))
    rows = read_csv(text)
    assert {(r["name"], r["email"], r["preferred_language"]) for r in rows} == {
        ("Granted Test", "granted@example.com", "pl"),
        ("Cameback Test", "cameback@example.com", "zh"),
        ("Tiegrant Test", "tiegrant@example.com", "ru"),
    }
    assert len(rows) == 3
    # The same people the customer list's "consent given now" filter finds, with an e-mail.
    listed = set(contact_lists.included_ids(email, "email"))
    filtered = Customer.active().where(
        consent.granted_now(email.id)
        & Customer.id.in_(
            ContactPoint.select(ContactPoint.customer).where(ContactPoint.kind == "email")
        )
    )
    assert listed == {customer.id for customer in filtered}


def test_preview_counts_who_is_left_out_and_why(people):
    email, sms, c = people
    preview = contact_lists.preview(email, "email")
    # Withdrew and the later-written withdrawal at a tie; never asked: Never and Smsonly.
    assert (preview.included, preview.withdrawn, preview.never_asked, preview.no_contact) == (
        3,
        2,
        2,
        1,
    )
    by_phone = contact_lists.preview(sms, "phone")
    assert (by_phone.included, by_phone.no_contact) == (1, 1)


def test_phone_list_gives_numbers_in_international_form(people):
    _email, sms, c = people
    ContactPoint.create(
        customer=c["no_email"], kind="phone", value="601 000 111", normalized="+48601000111"
    )
    rows = read_csv("".join(contact_lists.export(sms, "phone")))
    # The primary number, as E.164 (a spreadsheet-safe number, left as it is).
    assert rows == [{"name": "Noemail Test", "phone": "+48601234567", "preferred_language": "en"}]


def test_a_saved_segment_narrows_the_list(people):
    email, _sms, c = people
    segment = customer_list.save_segment("VIP", Filters(tag="vip"), None)
    rows = read_csv("".join(contact_lists.export(email, "email", segment)))
    assert [r["name"] for r in rows] == ["Granted Test"]
    preview = contact_lists.preview(email, "email", segment)
    assert (preview.included, preview.withdrawn, preview.never_asked, preview.no_contact) == (
        1,
        1,
        1,
        1,
    )


def test_the_export_is_audited_with_ids_and_counts_only(people, owner):
    email, _sms, c = people
    "".join(contact_lists.export(email, "email", actor_id=owner.id, ip_address="127.0.0.1"))
    audit = AuditEvent.get(AuditEvent.action == "contact_list_exported")
    details = json.loads(audit.details)
    assert details == {
        "purpose_id": email.id,
        "segment_id": None,
        "channel": "email",
        "customer_ids": sorted([c["granted"].id, c["came_back"].id, c["tie_grant_last"].id]),
        "left_out": {"withdrawn": 2, "never_asked": 2, "no_contact": 1},
    }
    assert (audit.actor_type, audit.actor_id) == ("staff", owner.id)
    assert "@" not in audit.details and "Test" not in audit.details


def test_a_withdrawal_after_the_ids_were_read_still_keeps_the_customer_out(people):
    email, _sms, c = people
    lines = contact_lists.export(email, "email")
    give(c["came_back"], email, False, MAR)
    names = {r["name"] for r in read_csv("".join(lines))}
    assert names == {"Granted Test", "Tiegrant Test"}


def test_names_cannot_become_spreadsheet_formulas(app):
    email = make_purpose()
    sneaky = make_customer('=HYPERLINK("x")', "", email="s@example.com")
    give(sneaky, email, True, JAN)
    [row] = read_csv("".join(contact_lists.export(email, "email")))
    assert row["name"].startswith("'=")


def test_rows_are_read_in_batches(people, monkeypatch):
    email, _sms, _c = people
    monkeypatch.setattr(contact_lists, "BATCH_SIZE", 2)
    rows = read_csv("".join(contact_lists.export(email, "email")))
    assert len(rows) == 3


# --- The owner page -----------------------------------------------------------------------


def test_owner_previews_a_list(owner_client, people):
    email, _sms, _c = people
    response = owner_client.get(
        "/owner/contact-lists",
        query_string={"purpose": email.id, "segment": "", "channel": "email"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "3 customers on the list" in html
    cells = re.findall(r'<dt>([^<]+)</dt><dd data-reason="(\w+)">(\d+)</dd>', html)
    assert cells == [
        ("Withdrew consent for this purpose", "withdrawn", "2"),
        ("Never asked for this purpose", "never_asked", "2"),
        ("Consented, but no e-mail address", "no_contact", "1"),
    ]
    assert "Download CSV" in html


def test_the_preview_alone_comes_back_to_htmx(owner_client, people):
    email, _sms, _c = people
    response = owner_client.get(
        "/owner/contact-lists",
        query_string={"purpose": email.id, "channel": "phone"},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="contact-list-preview"')
    assert "Consented, but no phone number" in html


def test_owner_downloads_the_csv(owner_client, people, owner):
    email, _sms, _c = people
    page = f"/owner/contact-lists?purpose={email.id}&channel=email"
    token = csrf_token_from(owner_client, page)
    response = owner_client.post(
        "/owner/contact-lists/export",
        data={"csrf_token": token, "purpose": email.id, "segment": "", "channel": "email"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "email_marketing" in response.headers["Content-Disposition"]
    names = {r["name"] for r in read_csv(response.get_data(as_text=True))}
    assert names == {"Granted Test", "Cameback Test", "Tiegrant Test"}
    assert AuditEvent.get(AuditEvent.action == "contact_list_exported").actor_id == owner.id


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"purpose": "999"}, "Choose one of the purposes listed."),
        ({"segment": "999"}, "Choose one of the segments listed."),
        ({"channel": "fax"}, "Choose e-mail or phone."),
    ],
)
def test_an_unknown_choice_is_refused_and_nothing_is_exported(
    owner_client, people, fields, message
):
    email, _sms, _c = people
    token = csrf_token_from(owner_client, "/owner/contact-lists")
    data = {"csrf_token": token, "purpose": email.id, "segment": "", "channel": "email", **fields}
    response = owner_client.post("/owner/contact-lists/export", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert AuditEvent.select().where(AuditEvent.action == "contact_list_exported").count() == 0


def test_staff_cannot_export_a_contact_list(staff_client, people):
    email, _sms, _c = people
    token = csrf_token_from(staff_client, "/")
    response = staff_client.post(
        "/owner/contact-lists/export",
        data={"csrf_token": token, "purpose": email.id, "segment": "", "channel": "email"},
    )
    assert response.status_code == 403
    assert AuditEvent.select().where(AuditEvent.action == "contact_list_exported").count() == 0


def test_the_export_needs_the_csrf_token(owner_client, people):
    email, _sms, _c = people
    response = owner_client.post(
        "/owner/contact-lists/export",
        data={"csrf_token": "forged", "purpose": email.id, "channel": "email"},
    )
    assert response.status_code == 400
