"""Download (SPEC 5): the signed-in customer's data as a PDF (every script, read back with
pypdf), JSON and CSV; each download audited with its format; nobody else's data inside;
the campaign and automation messages sent to them (issue 10)."""

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal import complaints, consent, customer_data, history
from portal.models import (
    AuditEvent,
    Automation,
    Campaign,
    ComplaintMessage,
    OutgoingMessage,
    utcnow,
)
from tests.customer_signin import start_customer_session
from tests.factories import make_customer

FORMATS = ("pdf", "json", "csv")


def sign_in_customer(client, customer, language=None):
    """A customer session as the e-mailed link would start it (portal/customer/session.py)."""
    start_customer_session(client, customer, language)


def buy(customer, *products, receipt=""):
    lines = [(product, Decimal("1"), Decimal("12.50")) for product in products]
    return history.record_purchase(customer, lines, purchased_at=utcnow(), receipt_number=receipt)


def campaign_messages(customer) -> dict:
    """What campaigns and automations left on record about `customer`: a campaign message they
    unsubscribed through, a birthday message their server refused, a service reminder (no
    purpose), and two that never went (skipped, still queued)."""
    offers = consent.create_purpose(
        "offers",
        {"en": ("Offers by e-mail", "Send me offers."), "zh": ("邮件优惠", "给我发优惠。")},
    )
    spring = Campaign.create(name="Spring tea 春茶", purpose=offers, status="sent")
    skipped = Campaign.create(name="Skipped sale", purpose=offers, status="sent")
    queued = Campaign.create(name="Queued news", purpose=offers, status="sending")
    birthday = Automation.create(name="Birthday wishes", kind="birthday", purpose=offers)
    reminder = Automation.create(name="Tasting evening reminder", kind="event_reminder")

    def message(occasion, status, when, **fields):
        return OutgoingMessage.create(
            customer=customer,
            occasion=occasion,
            status=status,
            created_at=when,
            sent_at=when if status == "sent" else None,
            **fields,
        )

    message(
        "campaign:spring",
        "sent",
        datetime(2026, 3, 2, 10),
        campaign=spring,
        purpose=offers,
        unsubscribed_at=datetime(2026, 3, 4, 18),
    )
    message(
        "birthday:2026",
        "failed",
        datetime(2026, 4, 7, 8),
        automation=birthday,
        purpose=offers,
        reason="550 5.1.1 mailbox unavailable",
    )
    message("reminder", "sent", datetime(2026, 5, 1, 9), automation=reminder)
    message(
        "campaign:skipped",
        "skipped",
        datetime(2026, 5, 2, 9),
        campaign=skipped,
        purpose=offers,
        reason="consent withdrawn",
    )
    message("campaign:queued", "queued", datetime(2026, 5, 3, 9), campaign=queued, purpose=offers)
    return {"offers": offers, "spring": spring, "birthday": birthday, "reminder": reminder}


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
def wei(app):
    """A Chinese customer whose purchases and name are in Chinese."""
    customer = make_customer("伟", "张", order="family_first", email="wei@example.com")
    buy(customer, "绿茶礼盒", "Herbata zielona", receipt="R-CN-1")
    return customer


@pytest.fixture
def lucja(app):
    """A Polish customer with diacritics in her name and purchases."""
    customer = make_customer("Łucja", "Żółkiewska", email="lucja@example.com")
    buy(customer, "Pierścionek złoty", receipt="R-PL-7")
    return customer


def test_download_page_offers_three_formats(client, lucja):
    sign_in_customer(client, lucja)
    html = client.get("/me/download").get_data(as_text=True)
    for path in ("/me/download.pdf", "/me/download.json", "/me/download.csv"):
        assert path in html


@pytest.mark.parametrize("language", ["en", "zh"])
def test_pdf_holds_the_chinese_customers_name_and_purchases(client, wei, language):
    sign_in_customer(client, wei, language)
    response = client.get("/me/download.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    # Read back as text: the glyphs were embedded with a real Chinese font, not tofu boxes.
    assert "张伟" in text
    assert "绿茶礼盒" in text
    assert "Herbata zielona" in text
    assert "R-CN-1" in text


def test_pdf_holds_the_polish_customers_name_and_purchases(client, lucja):
    sign_in_customer(client, lucja, "pl")
    text = pdf_text(client.get("/me/download.pdf").data)
    assert "Łucja Żółkiewska" in text
    assert "Pierścionek złoty" in text


def test_pdf_fonts_are_embedded_noto(client, wei):
    # The shared print stylesheet (static/css/print.css) draws Latin and Cyrillic with DejaVu
    # Sans and Chinese with Noto Sans CJK *SC* (not the JP shapes); every font is embedded.
    sign_in_customer(client, wei)
    reader = PdfReader(io.BytesIO(client.get("/me/download.pdf").data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("Noto-Sans-CJK-SC" in name for name in fonts), fonts
    assert not any("CJK-JP" in name for name in fonts), fonts
    assert all("+" in name for name in fonts), fonts  # subset-embedded, not referenced


def test_json_holds_everything_in_plain_structures(client, wei):
    purpose = consent.create_purpose("newsletter", {"en": ("Newsletter", "Send me news.")})
    consent.record(wei.id, purpose.id, granted=True, wording_version=1, channel="paper_form")
    sign_in_customer(client, wei)
    response = client.get("/me/download.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    assert "张伟" in response.get_data(as_text=True)  # not \u-escaped
    assert data["profile"]["display_name"] == "张伟"
    assert data["contacts"][0]["value"] == "wei@example.com"
    products = [line["product"] for line in data["purchases"][0]["lines"]]
    assert products == ["绿茶礼盒", "Herbata zielona"]
    assert data["purchases"][0]["total"] == "25.00"
    assert data["consent"]["current"] == [{"purpose": "Newsletter", "state": "granted"}]
    assert data["consent"]["history"][0]["channel"] == "paper_form"


def test_csv_is_one_table_of_section_item_field_value(client, wei):
    sign_in_customer(client, wei)
    response = client.get("/me/download.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets then read the UTF-8 as UTF-8
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["section", "item", "field", "value"]
    assert all(len(row) == 4 for row in rows)
    assert ["profile", "", "display_name", "张伟"] in rows
    lines = [row for row in rows if row[0] == "purchase_lines" and row[2] == "product"]
    assert [row[3] for row in lines] == ["绿茶礼盒", "Herbata zielona"]


@pytest.mark.parametrize("file_format", FORMATS)
def test_each_download_is_audited_with_its_format(client, lucja, file_format):
    sign_in_customer(client, lucja)
    assert client.get(f"/me/download.{file_format}").status_code == 200
    event = AuditEvent.select().where(AuditEvent.action == "customer_data_downloaded").get()
    assert (event.actor_type, event.actor_id) == ("customer", lucja.id)
    assert (event.target_type, event.target_id) == ("customer", lucja.id)
    details = json.loads(event.details)
    assert details == {"format": file_format}


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_download_holds_only_the_signed_in_customers_data(client, wei, lucja, file_format):
    sign_in_customer(client, lucja)
    body = client.get(f"/me/download.{file_format}").data
    text = pdf_text(body) if file_format == "pdf" else body.decode()
    assert "Pierścionek złoty" in text
    assert "绿茶礼盒" not in text and "wei@example.com" not in text and "张伟" not in text


@pytest.mark.parametrize("path", ["/me/download", *(f"/me/download.{f}" for f in FORMATS)])
def test_downloads_need_a_customer_session(client, lucja, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/me/sign-in" in response.headers["Location"]
    assert not AuditEvent.select().where(AuditEvent.action == "customer_data_downloaded").exists()


def test_complaint_internal_notes_never_reach_the_download(app, client, lucja):
    complaint = complaints.open_complaint(
        lucja,
        subject="Broken clasp",
        description="The clasp broke.",
        channel="in_store",
        category="other",
        severity="medium",
    )
    complaints.add_reply(complaint, "We will repair it for free.", staff_id=None)
    complaints.add_note(complaint, "SECRET internal remark", staff_id=None)
    assert ComplaintMessage.select().where(ComplaintMessage.kind == "internal_note").exists()
    data = customer_data.collect(lucja)
    assert [r["body"] for r in data["complaints"][0]["replies"]] == ["We will repair it for free."]
    sign_in_customer(client, lucja)
    for file_format in FORMATS:
        body = client.get(f"/me/download.{file_format}").data
        text = pdf_text(body) if file_format == "pdf" else body.decode()
        assert "We will repair it for free." in text.replace("\n", " ")
        assert "SECRET" not in text


def test_downloads_list_the_messages_sent_to_the_customer(client, lucja, wei):
    campaign_messages(lucja)
    OutgoingMessage.create(
        customer=wei,
        campaign=Campaign.get(Campaign.name == "Skipped sale"),
        occasion="campaign:other",
        status="sent",
        sent_at=utcnow(),
    )
    sign_in_customer(client, lucja)

    data = json.loads(client.get("/me/download.json").get_data(as_text=True))
    assert data["messages"] == [
        {
            "date": "2026-03-02T10:00:00",
            "status": "sent",
            "source": "campaign",
            "name": "Spring tea 春茶",
            "purpose": "Offers by e-mail",
            "unsubscribed_at": "2026-03-04T18:00:00",
        },
        {
            "date": "2026-04-07T08:00:00",  # refused: when it was queued to go
            "status": "failed",
            "source": "automation",
            "name": "Birthday wishes",
            "purpose": "Offers by e-mail",
            "unsubscribed_at": None,
        },
        {
            "date": "2026-05-01T09:00:00",
            "status": "sent",
            "source": "automation",
            "name": "Tasting evening reminder",
            "purpose": "",  # a service message: no consent purpose
            "unsubscribed_at": None,
        },
    ]

    text = client.get("/me/download.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = [row for row in csv.reader(io.StringIO(text)) if row[0] == "messages"]
    assert ["messages", "message 1", "name", "Spring tea 春茶"] in rows
    assert ["messages", "message 1", "unsubscribed_at", "2026-03-04T18:00:00"] in rows
    assert ["messages", "message 2", "status", "failed"] in rows
    assert ["messages", "message 3", "unsubscribed_at", ""] in rows
    assert {row[1] for row in rows} == {"message 1", "message 2", "message 3"}
    assert "mailbox unavailable" not in text  # the server's reply is not data about her


def test_messages_titles_follow_the_page_language(client, lucja):
    campaign_messages(lucja)
    sign_in_customer(client, lucja, "zh")
    data = json.loads(client.get("/me/download.json").get_data(as_text=True))
    assert [m["purpose"] for m in data["messages"]] == ["邮件优惠", "邮件优惠", ""]
