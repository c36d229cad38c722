"""Erasure removes a person everywhere: no row holds their name, e-mail or phone afterwards,
and on SQLite not even the bytes of the database file do (SPEC 6.3, issue 4 "Done when").
Campaign messages (issue 10) stay for the campaign's figures, without the mail server's reply."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from portal import campaigns, customers, erasure, history, merge, search
from portal.db import is_postgresql
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Automation,
    Campaign,
    Complaint,
    ComplaintMessage,
    ConsentEvent,
    ConsentPurpose,
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerSignInLink,
    ErasureRequest,
    ErasureTombstone,
    ExportJob,
    ImportJob,
    Interaction,
    OutgoingMessage,
    PrivacyRequest,
    Purchase,
    Refund,
    SensitiveIdentifier,
    utcnow,
)

PERSON = {
    "given_name": "Wawrzyniec",
    "family_name": "Qlobuczyński",
    "email": "wawrzyniec.qlobuczynski@example.org",
    "phone": "+48 602 771 939",
    "address_line1": "ul. Żurawia 17 m. 4",
    "postal_code": "00-515",
    "city": "Warszawa",
    "country": "PL",
    "birth_date": "1979-03-14",
    "gender": "male",
    "note": "Wawrzyniec prefers oolong",
    "tags": "oolong, vip",
    "source_detail": "Qlobuczyński family referral",
}
# Every form the person's data takes in storage: as typed, folded for search, E.164 digits,
# the national phone form, and the 7-character prefixes the FTS5 prefix index keeps.
NEEDLES = [
    "Wawrzyniec",
    "Qlobuczyński",
    "Qlobuczy",
    "qlobuczynski",
    "wawrzyniec",
    "qlobucz",
    "wawrzyn",
    "wawrzyniec.qlobuczynski@example.org",
    "48602771939",
    "0602771939",
    "602771939",
    "602 771 939",
    "Żurawia",
]
OTHER = {
    "given_name": "Bronisława",
    "family_name": "Żółtkiewicz",
    "email": "bronislawa.zoltkiewicz@example.net",
    "phone": "+48 501 330 472",
}


def sqlite_path(app) -> Path:
    return Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))


def file_bytes(app) -> bytes:
    """The database file and its WAL, as anyone copying them off the disk would read them."""
    path = sqlite_path(app)
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data.lower()


def found_in_bytes(app, needles) -> list[str]:
    data = file_bytes(app)
    # bytes.lower() folds ASCII only, the same on both sides
    return [n for n in needles if n.encode().lower() in data]


def rows_holding(needles) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text column of every table where a row holds it."""
    if is_postgresql(db):
        columns = db.execute_sql(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')"
        ).fetchall()
        query = 'SELECT 1 FROM "{t}" WHERE "{c}" ILIKE %s LIMIT 1'
    else:
        tables = [
            r[0]
            for r in db.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        ]
        columns = [
            (t, c[1])
            for t in tables
            for c in db.execute_sql(f'PRAGMA table_info("{t}")').fetchall()
            if c[2].upper() in ("TEXT", "VARCHAR", "") or c[2].upper().startswith("VARCHAR")
        ]
        query = 'SELECT 1 FROM "{t}" WHERE CAST("{c}" AS TEXT) LIKE ? LIMIT 1'
    found = []
    for table, column in columns:
        for needle in needles:
            if db.execute_sql(query.format(t=table, c=column), (f"%{needle}%",)).fetchone():
                found.append((table, column, needle))
    return found


def make_person(app, owner, tmp_path, data=PERSON) -> Customer:
    """The person with everything the application can hold about them."""
    person = customers.create_customer(data, owner.id)
    # An edit leaves the earlier value somewhere in the file unless deletes are zeroed.
    customers.update_customer(person, {**data, "note": data["note"] + " and sencha"}, owner.id)
    purchase = history.record_purchase(
        person,
        [("Oolong 100 g", Decimal("2"), Decimal("18.50"))],
        purchased_at=datetime(2026, 1, 12, 10),
        receipt_number="R-2026-0777",
        staff_id=owner.id,
    )
    Refund.create(
        purchase=purchase, amount=Decimal("5"), reason=f"{data['given_name']} returned a tin"
    )
    history.record_interaction(
        person,
        occurred_at=datetime(2026, 1, 13, 9),
        direction="in",
        channel="call",
        summary=f"{data['given_name']} {data['family_name']} called about a parcel",
        staff_id=owner.id,
    )
    complaint = Complaint.create(
        customer=person,
        subject=f"Broken teapot ({data['family_name']})",
        description=f"Reported by {data['email']}",
        resolution="Replaced",
        satisfaction_comment=f"Thanks, {data['given_name']}",
    )
    ComplaintMessage.create(complaint=complaint, body=f"Dear {data['given_name']}, sorry!")
    ComplaintMessage.create(
        complaint=complaint, kind="internal_note", body=f"Call {data['phone']} first"
    )
    purpose = ConsentPurpose.get_or_create(code="email_marketing")[0]
    ConsentEvent.create(
        customer=person,
        purpose=purpose,
        wording_version=1,
        granted=True,
        channel="paper_form",
        evidence=f"Form 17 signed by {data['given_name']} {data['family_name']}",
    )
    SensitiveIdentifier.create(
        customer=person, kind="national_id", ciphertext=b"\x00sealed", key_id="k1", last_four="4821"
    )
    CustomerSignInLink.create(customer=person, token_hash="a" * 64, expires_at=utcnow())
    # A campaign their mail server refused, quoting them, and a birthday e-mail they
    # unsubscribed through.
    campaign = Campaign.create(name="Spring offers", purpose=purpose, status="sent")
    spring = f"campaign:{campaign.id}"
    OutgoingMessage.create(
        customer=person,
        campaign=campaign,
        purpose=purpose,
        occasion=spring,
        status="failed",
        reason=f"550 5.2.2 <{data['email']}> ({data['given_name']} {data['family_name']}): "
        "mailbox full",
    )
    birthday = Automation.create(name="Birthday wishes", kind="birthday", purpose=purpose)
    OutgoingMessage.create(
        customer=person,
        automation=birthday,
        purpose=purpose,
        occasion=f"automation:{birthday.id}:birthday:2026",
        sent_at=datetime(2026, 3, 14, 8),
        status="sent",
        unsubscribed_at=datetime(2026, 3, 15, 9),
    )
    # A second record of the same person, merged into the first: its snapshot remembers
    # the survivor's earlier note, and the duplicate row keeps its own values.
    duplicate = customers.create_customer(
        {
            "given_name": data["given_name"],
            "family_name": search.fold(data["family_name"]).title(),
            "email": "w." + data["email"],
            "note": f"{data['given_name']} from the web form",
        },
        owner.id,
    )
    # It got the same campaign: the merge leaves this message on the duplicate (one message
    # per person and occasion), where erasing the survivor must find it too.
    OutgoingMessage.create(
        customer=duplicate,
        campaign=campaign,
        purpose=purpose,
        occasion=spring,
        status="failed",
        reason=f"550 5.1.1 <w.{data['email']}>: Recipient address rejected",
    )
    merge.merge(Customer.get_by_id(person.id), duplicate, {"note"}, owner.id)
    report = tmp_path / "report.pdf"
    report.write_text(f"Data report for {data['given_name']} {data['family_name']}")
    ExportJob.create(
        kind="data_report", customer_id=person.id, file_path=str(report), status="done"
    )
    ImportJob.create(
        filename="crm.csv",
        file_format="csv",
        report=json.dumps([{"row": 3, "value": data["email"], "problem": "duplicate"}]),
    )
    return Customer.get_by_id(person.id)


@pytest.fixture
def person(app, owner, tmp_path):
    with app.app_context():
        return make_person(app, owner, tmp_path)


@pytest.fixture
def other(app, owner):
    return customers.create_customer(OTHER, owner.id)


def test_the_setup_really_stores_the_person_everywhere(app, person, other):
    # Without this the byte checks below could pass vacuously.
    held = {(table, column) for table, column, _ in rows_holding(NEEDLES)}
    for place in [
        ("customer", "given_name"),
        ("customer", "search_tokens"),
        ("contact_point", "normalized"),
        ("address", "line1"),
        ("interaction", "summary"),
        ("complaint", "subject"),
        ("complaint_message", "body"),
        ("consent_event", "evidence"),
        ("customer_merge", "snapshot"),
        ("import_job", "report"),
        ("refund", "reason"),
        ("outgoing_message", "reason"),
    ]:
        assert place in held
    if not is_postgresql(db):
        assert set(found_in_bytes(app, NEEDLES)) == set(NEEDLES)


def test_erasure_leaves_no_trace_of_the_person_in_any_row(app, owner, person, other):
    with app.app_context():
        receipt = erasure.erase(person.id, staff_id=owner.id)

    assert rows_holding(NEEDLES) == []
    # The other customer is untouched and still found.
    assert rows_holding([OTHER["family_name"], OTHER["email"]])
    assert [m.id for m in search.find("żółtk").customers] == [other.id]
    assert search.find("qlobucz").customers == []
    assert search.find("602771939").customers == []
    assert receipt.customer_ids == sorted(receipt.customer_ids) and len(receipt.customer_ids) == 2
    assert receipt.removed["contact_points"] == 3
    assert receipt.removed["interactions"] == 1
    assert receipt.removed["complaint_messages"] == 2
    assert receipt.files_removed == 1


def test_erasure_keeps_campaign_messages_without_the_mail_servers_reply(app, owner, person, other):
    campaign = Campaign.get(Campaign.name == "Spring offers")
    other_message = OutgoingMessage.create(
        customer=other,
        campaign=campaign,
        purpose=campaign.purpose,
        occasion=f"campaign:{campaign.id}",
        status="failed",
        reason=f"550 <{OTHER['email']}> unknown",
    )
    before = campaigns.figures(campaign)
    with app.app_context():
        receipt = erasure.erase(person.id, staff_id=owner.id)

    group = receipt.customer_ids
    rows = list(OutgoingMessage.select().where(OutgoingMessage.customer.in_(group)))
    # The rows stay, with their outcome: the campaign's figures do not change.
    assert sorted(m.status for m in rows) == ["failed", "failed", "sent"]
    assert [m.reason for m in rows] == ["", "", ""]
    assert [m.unsubscribed_at for m in rows if m.status == "sent"] == [datetime(2026, 3, 15, 9)]
    assert campaigns.figures(campaign) == before
    assert receipt.removed["message_reasons"] == 2
    # Someone else's message keeps its reason.
    assert OutgoingMessage.get_by_id(other_message.id).reason == f"550 <{OTHER['email']}> unknown"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_erased_person_is_gone_from_the_bytes_of_the_database_file(app, owner, person, other):
    with app.app_context():
        receipt = erasure.erase(person.id, staff_id=owner.id)

    assert receipt.bytes_cleared
    assert found_in_bytes(app, NEEDLES) == []
    # The check has teeth: the other customer's data is right there in the same file.
    assert found_in_bytes(app, ["Żółtkiewicz", "zoltkiewicz", "48501330472"]) == [
        "Żółtkiewicz",
        "zoltkiewicz",
        "48501330472",
    ]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_without_merging_the_search_index_its_old_segments_still_hold_the_person(
    app, owner, person
):
    # Rows erased, WAL folded into the file, but the FTS5 index not merged: the folded
    # tokens survive in the old segment. This is why erase() merges the index.
    with app.app_context():
        erasure.erase_records(person.id, staff_id=owner.id)
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        leftovers = found_in_bytes(app, NEEDLES)
        assert "qlobucz" in leftovers
        assert rows_holding(NEEDLES) == []  # no row holds them: only the index's old pages

        assert erasure.clear_freed_bytes()
    assert found_in_bytes(app, NEEDLES) == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_without_secure_delete_deleted_rows_stay_readable_in_the_file(app, owner, tmp_path):
    # Shows what secure_delete (portal/db.py) is for: the same deletes on a connection that
    # does not zero freed space leave the e-mail in the file.
    with app.app_context():
        person = make_person(app, owner, tmp_path)
        db.execute_sql("PRAGMA secure_delete = OFF")
        ContactPoint.delete().where(ContactPoint.customer == person.id).execute()
        Customer.update(search_tokens="").where(Customer.id == person.id).execute()
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert rows_holding(["48602771939"]) == []
        assert "48602771939" in found_in_bytes(app, ["48602771939"])
        db.execute_sql("PRAGMA secure_delete = ON")


def test_erasure_keeps_sales_for_accounting_anonymised(app, owner, person):
    with app.app_context():
        erasure.erase(person.id, staff_id=owner.id)

    erased = Customer.get_by_id(person.id)
    assert erased.erased_at is not None
    assert (erased.given_name, erased.family_name, erased.display_name, erased.note) == (
        "",
        "",
        "",
        "",
    )
    assert erased.birth_date is None and erased.gender == "" and erased.search_tokens == ""
    purchase = Purchase.get(Purchase.customer == person.id)
    assert (purchase.receipt_number, purchase.total) == ("R-2026-0777", Decimal("37.00"))
    assert [line.product for line in purchase.lines] == ["Oolong 100 g"]
    assert erased.purchase_count == 1 and erased.lifetime_value == Decimal("37.00")
    # Consent proof stays without its personal evidence; the complaint stays as a statistic.
    event = ConsentEvent.get(ConsentEvent.customer == person.id)
    assert event.granted and event.evidence == ""
    complaint = Complaint.get(Complaint.customer == person.id)
    assert complaint.subject == "" and complaint.messages.count() == 0
    assert Interaction.select().where(Interaction.customer == person.id).count() == 0
    # The merge can no longer be undone: its snapshot is empty.
    record = CustomerMerge.get(CustomerMerge.survivor == person.id)
    assert record.snapshot == "{}" and record.undone_at is not None


def test_erasure_removes_generated_files_and_scrubs_job_reports(app, owner, person, tmp_path):
    job = ExportJob.get(ExportJob.customer_id == person.id)
    assert Path(job.file_path).exists()
    with app.app_context():
        erasure.erase(person.id, staff_id=owner.id)
    assert not (tmp_path / "report.pdf").exists()
    assert ExportJob.get_by_id(job.id).file_path == ""
    report = json.loads(ImportJob.get().report)
    assert report == [{"row": 3, "value": "[erased]", "problem": "duplicate"}]


def test_erasure_is_audited_with_ids_only_and_leaves_a_tombstone(app, owner, person):
    with app.app_context():
        receipt = erasure.erase(person.id, staff_id=owner.id)
        ledger = erasure.Ledger.current()

    event = AuditEvent.get(AuditEvent.action == "customer_erased")
    details = json.loads(event.details)
    assert (event.target_id, event.actor_id) == (person.id, owner.id)
    assert details["customer_ids"] == receipt.customer_ids and details["kept"] == []
    tombstones = list(ErasureTombstone.select().order_by(ErasureTombstone.customer_id))
    assert [t.customer_id for t in tombstones] == receipt.customer_ids
    hashes = json.loads(tombstones[0].contact_hashes)
    assert ledger.contact_hash("email", PERSON["email"]) in hashes
    assert ledger.contact_hash("phone", "+48602771939") in hashes
    text = ledger.path.read_text()
    assert [json.loads(line)["customer_id"] for line in text.splitlines()] == receipt.customer_ids
    assert not [n for n in NEEDLES if n.lower() in text.lower()]


def test_erased_profile_is_gone_from_the_workspace(app, owner_client, owner, person):
    with app.app_context():
        erasure.erase(person.id, staff_id=owner.id)
    assert owner_client.get(f"/customers/{person.id}").status_code == 404
    listing = owner_client.get("/customers").get_data(as_text=True)
    assert f"/customers/{person.id}" not in listing
    assert "Wawrzyniec" not in owner_client.get("/search?q=wawrz").get_data(as_text=True)


def test_a_second_erasure_of_the_same_person_is_refused(app, owner, person):
    with app.app_context():
        erasure.erase(person.id, staff_id=owner.id)
        with pytest.raises(erasure.AlreadyErased):
            erasure.erase(person.id, staff_id=owner.id)
        assert erasure.erase_records(person.id) is None
    assert AuditEvent.select().where(AuditEvent.action == "customer_erased").count() == 1


def test_kept_parts_stay_and_the_rest_goes(app, owner, person):
    with app.app_context():
        receipt = erasure.erase(person.id, staff_id=owner.id, keep=["complaints", "interactions"])
    assert receipt.kept == ("complaints", "interactions")
    assert Interaction.select().where(Interaction.customer == person.id).count() == 1
    assert Complaint.get(Complaint.customer == person.id).subject.startswith("Broken teapot")
    assert ContactPoint.select().where(ContactPoint.customer == person.id).count() == 0
    assert Customer.get_by_id(person.id).given_name == ""
    assert rows_holding(["602 771 939", "wawrzyniec.qlobuczynski@example.org"]) == [
        ("complaint", "description", "wawrzyniec.qlobuczynski@example.org"),
        ("complaint_message", "body", "602 771 939"),
    ]


# --- Requests ------------------------------------------------------------------------------


def test_request_by_staff_waits_for_the_owner_and_starts_the_legal_clock(app, owner, other):
    request = erasure.request_erasure(other.id, staff_id=owner.id)
    assert (request.status, request.requested_by_type) == ("pending", "staff")
    assert request.execute_after is not None and request.execute_after <= utcnow()
    clock = PrivacyRequest.get(PrivacyRequest.customer == other.id)
    assert (clock.kind, clock.status) == ("erasure", "open")
    assert AuditEvent.select().where(AuditEvent.action == "erasure_requested").count() == 1
    # Asking twice does not open a second request or clock.
    assert erasure.request_erasure(other.id, staff_id=owner.id).id == request.id
    assert PrivacyRequest.select().count() == 1


def test_self_service_request_waits_for_confirmation_then_the_grace_period(app, other):
    request = erasure.request_erasure(other.id, made_via="self_service")
    assert request.status == "awaiting_confirmation" and request.execute_after is None
    confirmed_at = datetime(2026, 3, 1, 12)
    erasure.confirm(request, now=confirmed_at)
    request = ErasureRequest.get_by_id(request.id)
    assert request.status == "pending"
    assert request.execute_after == datetime(2026, 3, 15, 12)  # erasure_grace_days = 14


def test_executing_a_request_completes_it_and_stops_the_clock(app, owner, other):
    request = erasure.request_erasure(other.id, staff_id=owner.id)
    erasure.hold(request, "Pending court claim, case 12/2026", ["complaints"], owner.id)
    with app.app_context():
        receipt = erasure.execute(ErasureRequest.get_by_id(request.id), owner.id)
    assert receipt.kept == ("complaints",)
    request = ErasureRequest.get_by_id(request.id)
    assert request.status == "completed" and request.completed_at is not None
    assert PrivacyRequest.get(PrivacyRequest.customer == other.id).status == "completed"


def test_a_hold_needs_a_known_part_and_a_reason(app, owner, other):
    request = erasure.request_erasure(other.id, staff_id=owner.id)
    with pytest.raises(erasure.ErasureError):
        erasure.hold(request, "", ["complaints"], owner.id)
    with pytest.raises(erasure.ErasureError):
        erasure.hold(request, "A reason", ["everything"], owner.id)
    assert ErasureRequest.get_by_id(request.id).status == "pending"


def test_cancelled_request_stops_the_clock(app, other):
    request = erasure.request_erasure(other.id, made_via="self_service")
    erasure.cancel(request)
    assert ErasureRequest.get_by_id(request.id).status == "cancelled"
    assert PrivacyRequest.get(PrivacyRequest.customer == other.id).status == "refused"
    assert Customer.get_by_id(other.id).erased_at is None
