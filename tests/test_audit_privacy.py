"""Audit events refer to customers by id and never copy their personal data (SPEC 2); every
view of a profile, every export and every reveal is audited with the customer's id (SPEC 6
rule 1)."""

import re

from portal import audit, consent, contact_lists, identifiers
from portal.extensions import db
from portal.models import AuditEvent, Customer
from tests.conftest import PASSWORD, csrf_token_from, sign_in
from tests.factories import make_customer
from tests.test_customer_forms import edit_form, edit_path, form
from tests.test_profile import interaction_data, purchase_data

HTMX = {"HX-Request": "true"}
NAME, SURNAME = "Zbigniewa", "Quxworth"
EMAIL = "quxworth@example.net"
PHONE = "+48 601 999 123"


def audit_rows_as_text() -> list[str]:
    """Every audit_event row, all columns, as the database holds them."""
    cursor = db.execute_sql("SELECT * FROM audit_event ORDER BY id")
    return [" | ".join(str(value) for value in row) for row in cursor.fetchall()]


def assert_no_personal_data(rows: list[str], *secrets: str) -> None:
    for row in rows:
        text = row.casefold()
        for secret in secrets:
            assert secret.casefold() not in text, f"{secret!r} leaked into {row}"
        for phone in ("601999123", "601 999 123", "601-999-123"):
            assert phone not in text, f"the phone number leaked into {row}"


def test_audit_events_carry_no_personal_data(client, staff_member):
    sign_in(client, staff_member)
    token = csrf_token_from(client, "/customers/new")
    created = client.post(
        "/customers/new",
        data=form(
            token,
            given_name=NAME,
            family_name=SURNAME,
            email=EMAIL,
            phone=PHONE,
            note=f"{NAME} prefers e-mail at {EMAIL}",
            tags="",
        ),
    )
    assert created.status_code == 303
    customer = Customer.get(Customer.family_name == SURNAME)
    profile = f"/customers/{customer.id}"

    assert client.get(profile).status_code == 200
    assert client.get(f"/search?q={SURNAME}", headers=HTMX).status_code == 200
    edited = edit_form(client, customer, family_name="Quxworth-Brzęczek", email="zq@example.net")
    assert client.post(edit_path(customer), data=edited).status_code == 303
    token = csrf_token_from(client, profile)
    bought = purchase_data(token, [(f"Gift for {NAME} {SURNAME}", "1", "5")], receipt_number="R-9")
    assert client.post(f"{profile}/purchases", data=bought, headers=HTMX).status_code == 200
    said = interaction_data(token, summary=f"{NAME} {SURNAME} called from {PHONE}")
    assert client.post(f"{profile}/interactions", data=said, headers=HTMX).status_code == 200
    token = csrf_token_from(client, "/customers")
    tagged = {"csrf_token": token, "tag": f"{SURNAME} family", "customer_ids": [customer.id]}
    assert client.post("/customers/bulk-tag", data=tagged).status_code == 303
    client.post("/sign-out", data={"csrf_token": csrf_token_from(client, profile)})
    token = csrf_token_from(client)
    refused = client.post("/sign-in", data={"email": EMAIL, "password": "x", "csrf_token": token})
    assert refused.status_code == 200
    assert sign_in(client, staff_member, PASSWORD).status_code == 303

    rows = audit_rows_as_text()
    actions = [row.split(" | ")[4] for row in rows]
    for action in (
        "customer_created",
        "customer_viewed",
        "customer_updated",
        "customers_tagged",
        "signed_out",
        "sign_in_failed",
        "signed_in",
    ):
        assert action in actions
    assert_no_personal_data(rows, NAME, SURNAME, EMAIL, "Brzęczek", "zq@example.net")
    assert audit.verify().ok


def test_viewing_a_profile_or_its_older_history_is_audited_with_the_customer_id(
    staff_client, staff_member
):
    customer = make_customer(NAME, SURNAME, email=EMAIL)

    staff_client.get(f"/customers/{customer.id}")
    staff_client.get(f"/customers/{customer.id}/timeline", headers=HTMX)

    views = list(
        AuditEvent.select().where(AuditEvent.action == "customer_viewed").order_by(AuditEvent.id)
    )
    assert [(e.actor_id, e.target_type, e.target_id) for e in views] == [
        (staff_member.id, "customer", customer.id)
    ] * 2
    assert '"part": "timeline"' in views[1].details


def test_a_contact_list_export_is_audited_with_every_customer_it_holds(app, owner):
    listed = make_customer(NAME, SURNAME, email=EMAIL)
    left_out = make_customer("Anna", "Nowak", email="anna@example.com")
    purpose = consent.create_purpose("newsletter", {"en": ("Newsletter", "News by e-mail")})
    consent.record(
        listed.id,
        purpose.id,
        granted=True,
        wording_version=1,
        channel="paper_form",
        staff_id=owner.id,
    )

    csv_text = "".join(contact_lists.export(purpose, "email", actor_id=owner.id))

    assert EMAIL in csv_text and "anna@example.com" not in csv_text
    event = AuditEvent.get(AuditEvent.action == "contact_list_exported")
    assert audit.details_of(event)["customer_ids"] == [listed.id]
    # The owner finds the export when looking at what happened to this customer.
    found, _older = audit.log_page(audit.LogFilters(customer_id=listed.id))
    assert event in found
    assert event not in audit.log_page(audit.LogFilters(customer_id=left_out.id))[0]
    assert_no_personal_data(audit_rows_as_text(), NAME, SURNAME, EMAIL)


def test_revealing_an_identifier_is_audited_without_its_value(app, staff_member):
    customer = make_customer(NAME, SURNAME)
    with app.app_context():  # the encryption keys come from the configuration
        row = identifiers.add(customer.id, "tax_number", "526-000-12-46", staff_member.id)
        value = identifiers.reveal(row.id, staff_member.id)

    event = AuditEvent.get(AuditEvent.action == "identifier_revealed")
    assert (event.actor_id, event.target_type, event.target_id) == (
        staff_member.id,
        "customer",
        customer.id,
    )
    digits = re.sub(r"\D", "", value)
    assert all(
        digits not in re.sub(r"\D", "", text.split(" | ")[8]) for text in audit_rows_as_text()
    )
