"""Duplicates are found, merged field by field with all history moved, and a merge can be undone.
Campaign messages move too, except one for an occasion the survivor already has (issue 10)."""

from datetime import datetime
from decimal import Decimal

import pytest

from portal import campaigns, merge, search
from portal.models import (
    AuditEvent,
    Automation,
    Campaign,
    Complaint,
    ConsentEvent,
    ConsentPurpose,
    ContactPoint,
    Customer,
    CustomerTag,
    Interaction,
    OutgoingMessage,
    Purchase,
)
from tests.conftest import csrf_token_from
from tests.factories import make_customer


def buy(customer, amount, when):
    Purchase.create(customer=customer, total=Decimal(amount), currency="EUR", purchased_at=when)
    merge.recompute_totals(customer.id)


@pytest.fixture
def twins(app):
    older = make_customer(
        "Łukasz", "Wąsowski", email="lukasz@poczta.example", phone="+48601555012", tags=["vip"]
    )
    newer = make_customer(
        "Lukasz",
        "Wąsowski",
        email="LUKASZ.W@poczta.example",
        phone="+48601555012",
        tags=["vip", "newsletter"],
        note="typed at the till",
    )
    buy(older, "100.00", datetime(2026, 1, 5))
    buy(newer, "40.50", datetime(2026, 3, 1))
    Interaction.create(customer=newer, summary="Asked about delivery", channel="call")
    Complaint.create(customer=newer, subject="Late delivery")
    purpose = ConsentPurpose.create(code="email_marketing")
    ConsentEvent.create(
        customer=newer, purpose=purpose, wording_version=1, granted=True, channel="web_form"
    )
    return Customer.get_by_id(older.id), Customer.get_by_id(newer.id)


def test_likely_duplicates_are_listed(app, twins):
    unrelated = make_customer("Anna", "Nowak", email="anna@poczta.example")
    similar = make_customer("Anna", "Nowakk")  # noqa: F841 - a different family name, not a pair
    pairs = {(p.first.id, p.second.id): p.reason for p in merge.duplicate_pairs()}
    older, newer = twins
    assert (older.id, newer.id) in pairs
    assert all(unrelated.id not in pair for pair in pairs)


def test_similar_given_names_with_the_same_family_name_pair_up(app):
    first = make_customer("Katarzyna", "Lis")
    second = make_customer("Katarzyma", "Lis")
    pairs = merge.duplicate_pairs()
    assert [(p.first.id, p.second.id, p.reason) for p in pairs] == [(first.id, second.id, "name")]


def test_merge_moves_everything_and_hides_the_duplicate(twins, staff_member):
    older, newer = twins
    merge.merge(older, newer, {"note"}, staff_id=staff_member.id)

    survivor = Customer.get_by_id(older.id)
    assert survivor.note == "typed at the till" and survivor.given_name == "Łukasz"
    assert survivor.purchase_count == 2 and survivor.lifetime_value == Decimal("140.50")
    assert survivor.last_purchase_at == datetime(2026, 3, 1)
    for model in (Purchase, Interaction, Complaint, ConsentEvent):
        assert model.select().where(model.customer == newer.id).count() == 0
    assert Interaction.get().customer_id == older.id
    emails = {
        p.normalized
        for p in ContactPoint.select().where(
            ContactPoint.customer == older.id, ContactPoint.kind == "email"
        )
    }
    assert emails == {"lukasz@poczta.example", "lukasz.w@poczta.example"}
    phones = (
        ContactPoint.select()
        .where(ContactPoint.customer == older.id, ContactPoint.kind == "phone")
        .count()
    )
    assert phones == 1  # the shared phone is not doubled
    tags = {link.tag.name for link in CustomerTag.select().where(CustomerTag.customer == older.id)}
    assert tags == {"vip", "newsletter"}
    assert Customer.active().where(Customer.id == newer.id).count() == 0
    assert [c.id for c in search.find("wasowski").customers] == [older.id]


def test_undo_gives_both_records_back(twins, staff_member):
    older, newer = twins
    record = merge.merge(older, newer, {"note", "given_name"}, staff_id=staff_member.id)
    assert Customer.get_by_id(older.id).display_name == "Lukasz Wąsowski"

    merge.undo(record)

    survivor, duplicate = Customer.get_by_id(older.id), Customer.get_by_id(newer.id)
    assert survivor.display_name == "Łukasz Wąsowski" and survivor.note == ""
    assert survivor.purchase_count == 1 and survivor.lifetime_value == Decimal("100.00")
    assert duplicate.merged_into_id is None and duplicate.purchase_count == 1
    assert Interaction.get().customer_id == newer.id
    assert ConsentEvent.get().customer_id == newer.id
    assert {
        link.tag.name for link in CustomerTag.select().where(CustomerTag.customer == newer.id)
    } == {"vip", "newsletter"}
    assert {c.id for c in search.find("wasowski").customers} == {older.id, newer.id}
    with pytest.raises(merge.MergeError):
        merge.undo(merge.CustomerMerge.get_by_id(record.id))


def test_merge_screen_and_post(staff_client, twins):
    older, newer = twins
    page = staff_client.get(f"/customers/{older.id}/merge/{newer.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="given_name"' in html and 'name="note"' in html
    assert 'name="family_name"' not in html  # the same on both: nothing to choose
    token = csrf_token_from(staff_client, f"/customers/{older.id}/merge/{newer.id}")
    response = staff_client.post(
        f"/customers/{older.id}/merge/{newer.id}",
        data={"csrf_token": token, "given_name": "keep", "note": "take"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/customers/{older.id}"
    assert Customer.get_by_id(older.id).note == "typed at the till"
    event = AuditEvent.get(AuditEvent.action == "customers_merged")
    assert (
        event.target_id == older.id
        and "till" not in event.details
        and "poczta" not in event.details
    )
    assert staff_client.get(f"/customers/{newer.id}").status_code == 404


def test_merge_without_csrf_changes_nothing(staff_client, twins):
    older, newer = twins
    response = staff_client.post(f"/customers/{older.id}/merge/{newer.id}", data={"note": "take"})
    assert response.status_code == 400
    assert Customer.get_by_id(newer.id).merged_into_id is None


def test_undo_over_http(staff_client, twins, staff_member):
    older, newer = twins
    record = merge.merge(older, newer, set(), staff_id=staff_member.id)
    token = csrf_token_from(staff_client, "/customers")
    response = staff_client.post(f"/merges/{record.id}/undo", data={"csrf_token": token})
    assert response.status_code == 303
    assert staff_client.get(f"/customers/{newer.id}").status_code == 200
    assert AuditEvent.select().where(AuditEvent.action == "merge_undone").count() == 1
    assert (
        staff_client.post(f"/merges/{record.id}/undo", data={"csrf_token": token}).status_code
        == 404
    )


def test_a_record_cannot_be_merged_with_itself(staff_client, twins):
    older, _ = twins
    assert staff_client.get(f"/customers/{older.id}/merge/{older.id}").status_code == 404


def test_duplicates_page(staff_client, twins):
    html = staff_client.get("/duplicates").get_data(as_text=True)
    assert "Wąsowski" in html and "Compare and merge" in html


def test_merged_away_records_leave_the_search_index(twins, staff_member):
    older, newer = twins
    record = merge.merge(older, newer, set(), staff_id=staff_member.id)
    assert Customer.get_by_id(newer.id).search_tokens == ""
    merge.undo(record)
    assert "wasowski" in Customer.get_by_id(newer.id).search_tokens.split()


def test_survivor_profile_offers_the_undo(staff_client, twins, staff_member):
    older, newer = twins
    record = merge.merge(older, newer, set(), staff_id=staff_member.id)
    html = staff_client.get(f"/customers/{older.id}").get_data(as_text=True)
    assert f'action="/merges/{record.id}/undo"' in html
    assert "Undo this merge" in html
    merge.undo(record)
    assert "Undo this merge" not in staff_client.get(f"/customers/{older.id}").get_data(
        as_text=True
    )


def test_merge_screen_shows_both_records_contacts(staff_client, twins):
    older, newer = twins
    html = staff_client.get(f"/customers/{older.id}/merge/{newer.id}").get_data(as_text=True)
    assert "lukasz@poczta.example" in html and "LUKASZ.W@poczta.example" in html


# --- Campaign and automation messages ---------------------------------------------------------


def sent(customer, occasion, *, campaign=None, automation=None, status="sent"):
    return OutgoingMessage.create(
        customer=customer,
        campaign=campaign,
        automation=automation,
        purpose=campaign.purpose_id if campaign else None,
        occasion=occasion,
        status=status,
        sent_at=datetime(2026, 4, 1, 9) if status == "sent" else None,
    )


@pytest.fixture
def messages(twins):
    """Both records got the spring campaign; only the newer one the summer campaign and a
    birthday message."""
    older, newer = twins
    purpose = ConsentPurpose.get(ConsentPurpose.code == "email_marketing")
    spring = Campaign.create(name="Spring", purpose=purpose, status="sent")
    summer = Campaign.create(name="Summer", purpose=purpose, status="sent")
    birthday = Automation.create(name="Birthday", kind="birthday")
    return {
        "spring": spring,
        "older_spring": sent(older, "campaign:spring", campaign=spring),
        "newer_spring": sent(newer, "campaign:spring", campaign=spring, status="failed"),
        "newer_summer": sent(newer, "campaign:summer", campaign=summer),
        "newer_birthday": sent(newer, "birthday:2026", automation=birthday),
    }


def owner_of(message) -> int:
    return OutgoingMessage.get_by_id(message.id).customer_id


def test_merge_moves_messages_but_not_one_for_an_occasion_the_survivor_has(
    twins, messages, staff_member
):
    older, newer = twins
    spring_before = campaigns.figures(messages["spring"])
    merge.merge(older, newer, set(), staff_id=staff_member.id)

    assert owner_of(messages["newer_summer"]) == older.id
    assert owner_of(messages["newer_birthday"]) == older.id
    # One message per person and occasion: the duplicate's spring message stays with it,
    # kept (not deleted) so that the campaign still counts both e-mails that went out.
    assert owner_of(messages["newer_spring"]) == newer.id
    assert owner_of(messages["older_spring"]) == older.id
    assert campaigns.figures(messages["spring"]) == spring_before
    assert spring_before.recipients == 2


def test_undo_gives_the_duplicate_its_messages_back(twins, messages, staff_member):
    older, newer = twins
    record = merge.merge(older, newer, set(), staff_id=staff_member.id)
    merge.undo(record)
    for name in ("newer_spring", "newer_summer", "newer_birthday"):
        assert owner_of(messages[name]) == newer.id, name
    assert owner_of(messages["older_spring"]) == older.id


def test_undo_still_works_when_the_duplicate_got_the_same_occasion_meanwhile(
    twins, messages, staff_member
):
    older, newer = twins
    record = merge.merge(older, newer, set(), staff_id=staff_member.id)
    # Say a rule sent the merged record its own birthday message meanwhile.
    again = sent(newer, "birthday:2026", automation=messages["newer_birthday"].automation)
    merge.undo(record)
    assert Customer.get_by_id(newer.id).merged_into_id is None
    assert owner_of(messages["newer_summer"]) == newer.id
    # The moved one stays with the survivor rather than the undo failing on the unique index.
    assert owner_of(messages["newer_birthday"]) == older.id
    assert owner_of(again) == newer.id
