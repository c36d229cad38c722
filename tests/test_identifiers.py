"""Sensitive identifiers: encrypted at rest, shown masked, revealed only on purpose and audited."""

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from portal import identifiers, settings
from portal.db import is_postgresql
from portal.extensions import db
from portal.models import AuditEvent, SensitiveIdentifier
from tests.conftest import ENCRYPTION_KEY, csrf_token_from
from tests.factories import make_customer

HTMX = {"HX-Request": "true"}
PESEL = "44051401359"  # a valid PESEL (check digit 9)
PESEL_TYPED = "440514 01-359"
NIP = "1234563218"  # a valid NIP (check digit 8)
# The part of the number that is never stored in plain: everything before the last four.
PESEL_HIDDEN = PESEL[:-4]


@pytest.fixture
def anna(app):
    return make_customer("Anna", "Nowak", email="anna.nowak@example.com")


def keyring(*keys):
    return identifiers.Keyring(list(keys or [ENCRYPTION_KEY]))


def stored(customer, kind="national_id", value=PESEL):
    return identifiers.add(customer.id, kind, value, None, region="PL", keyring=keyring())


def add_url(customer):
    return f"/customers/{customer.id}/identifiers"


def reveal_url(customer, identifier):
    return f"/customers/{customer.id}/identifiers/{identifier.id}/reveal"


def post_identifier(client, customer, *, kind="national_id", value=PESEL_TYPED, headers=HTMX):
    token = csrf_token_from(client, f"/customers/{customer.id}")
    data = {"identifier-csrf_token": token, "identifier-kind": kind, "identifier-value": value}
    return client.post(add_url(customer), data=data, headers=headers)


def reveal(client, customer, identifier, headers=HTMX):
    token = csrf_token_from(client, f"/customers/{customer.id}")
    return client.post(reveal_url(customer, identifier), headers={**headers, "X-CSRFToken": token})


def every_stored_value():
    """Every value of every row of every table, as text or bytes, on either engine."""
    values = []
    for table in db.get_tables():
        cursor = db.execute_sql(f'SELECT * FROM "{table}"')
        for row in cursor.fetchall():
            for value in row:
                if isinstance(value, memoryview):
                    value = bytes(value)
                values.append(value if isinstance(value, bytes) else str(value))
    return values


def appears_anywhere(needle: str) -> bool:
    return any(
        needle.encode() in value if isinstance(value, bytes) else needle in value
        for value in every_stored_value()
    )


def sqlite_file_bytes() -> bytes:
    """The database file (and its WAL) as they are on disk, after a checkpoint."""
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(db.database)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# --- At rest ----------------------------------------------------------------------------


def test_an_added_identifier_is_stored_encrypted_never_in_plain(staff_client, anna):
    response = post_identifier(staff_client, anna)

    assert response.status_code == 200
    row = SensitiveIdentifier.get(SensitiveIdentifier.customer == anna.id)
    assert row.kind == "national_id" and row.last_four == "1359"
    assert row.key_id == identifiers.key_id(ENCRYPTION_KEY)
    ciphertext = bytes(row.ciphertext)
    assert PESEL.encode() not in ciphertext and PESEL_HIDDEN.encode() not in ciphertext
    assert keyring().decrypt(ciphertext, row.key_id) == PESEL
    # Not in the identifier table, nor the audit trail, nor any other table
    assert appears_anywhere("anna.nowak@example.com")  # the scan does see what is stored
    assert not appears_anywhere(PESEL_HIDDEN)
    # and the key itself is nowhere in the database either
    assert not appears_anywhere(ENCRYPTION_KEY)
    if not is_postgresql(db):
        on_disk = sqlite_file_bytes()
        assert b"anna.nowak@example.com" in on_disk  # the scan does see what is stored
        assert PESEL.encode() not in on_disk and PESEL_HIDDEN.encode() not in on_disk
        assert ENCRYPTION_KEY.encode() not in on_disk


def test_adding_audits_ids_only(staff_client, anna, staff_member):
    post_identifier(staff_client, anna)

    row = SensitiveIdentifier.get(SensitiveIdentifier.customer == anna.id)
    event = AuditEvent.get(AuditEvent.action == "identifier_added")
    assert (event.actor_type, event.actor_id) == ("staff", staff_member.id)
    assert (event.target_type, event.target_id) == ("customer", anna.id)
    assert json.loads(event.details) == {"identifier_id": row.id}


# --- On the profile ---------------------------------------------------------------------


def test_the_profile_shows_only_the_last_four(staff_client, anna):
    stored(anna)
    stored(anna, "tax_number", NIP)

    html = staff_client.get(f"/customers/{anna.id}").get_data(as_text=True)

    assert "•••• 1359" in html and "•••• 3218" in html
    assert "National ID" in html and "Tax number" in html
    assert PESEL_HIDDEN not in html and NIP[:-4] not in html
    assert "Each reveal is recorded in the audit log" in html
    assert not AuditEvent.select().where(AuditEvent.action == "identifier_revealed").exists()


def test_adding_answers_with_the_section_masked_and_a_fresh_form(staff_client, anna):
    response = post_identifier(staff_client, anna)

    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card identifiers" id="identifiers"')
    assert "Identifier added." in html and "•••• 1359" in html
    assert PESEL_HIDDEN not in html and PESEL_TYPED not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_without_htmx_adding_goes_back_to_the_profile(staff_client, anna):
    response = post_identifier(staff_client, anna, headers={})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/customers/{anna.id}#identifiers")
    assert SensitiveIdentifier.select().count() == 1


# --- Reveal -----------------------------------------------------------------------------


def test_reveal_shows_the_value_and_is_audited_once(staff_client, anna, staff_member):
    identifier = stored(anna)
    before = AuditEvent.select().count()

    response = reveal(staff_client, anna, identifier)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<strong class="masked revealed-value">{PESEL}</strong>' in html
    assert "This reveal is recorded in the audit log." in html
    assert response.headers["Cache-Control"] == "no-store"
    reveals = list(AuditEvent.select().where(AuditEvent.action == "identifier_revealed"))
    assert len(reveals) == 1
    event = reveals[0]
    assert (event.actor_type, event.actor_id) == ("staff", staff_member.id)
    assert (event.target_type, event.target_id) == ("customer", anna.id)
    assert json.loads(event.details) == {"identifier_id": identifier.id}
    assert event.ip_address == "127.0.0.1"
    # the page load for the token audited a profile view; nothing else was recorded
    new_events = AuditEvent.select().where(AuditEvent.id > before)
    assert sorted(e.action for e in new_events) == ["customer_viewed", "identifier_revealed"]
    for event in AuditEvent.select():
        for column in (event.details, event.target_type, event.ip_address, event.action):
            assert PESEL_HIDDEN not in column


def test_every_reveal_is_audited(staff_client, anna):
    identifier = stored(anna)
    reveal(staff_client, anna, identifier)
    reveal(staff_client, anna, identifier)
    assert AuditEvent.select().where(AuditEvent.action == "identifier_revealed").count() == 2


def test_a_revealed_value_never_enters_the_profile_page(staff_client, anna):
    identifier = stored(anna)
    reveal(staff_client, anna, identifier)

    html = staff_client.get(f"/customers/{anna.id}").get_data(as_text=True)

    assert "•••• 1359" in html and PESEL_HIDDEN not in html


def test_owners_may_reveal_too(owner_client, anna, owner):
    identifier = stored(anna)
    response = reveal(owner_client, anna, identifier)
    assert PESEL in response.get_data(as_text=True)
    event = AuditEvent.get(AuditEvent.action == "identifier_revealed")
    assert event.actor_id == owner.id


def test_without_htmx_the_reveal_is_a_page_of_its_own(staff_client, anna):
    identifier = stored(anna)
    response = reveal(staff_client, anna, identifier, headers={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<!doctype html>" in html.lower()
    assert PESEL in html and "Back to the profile" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_hide_masks_it_again(staff_client, anna):
    identifier = stored(anna)
    response = staff_client.get(f"/customers/{anna.id}/identifiers/{identifier.id}", headers=HTMX)
    html = response.get_data(as_text=True)
    assert "•••• 1359" in html and PESEL_HIDDEN not in html and "autofocus" in html


def test_reveal_needs_the_csrf_token(staff_client, anna):
    identifier = stored(anna)
    response = staff_client.post(reveal_url(anna, identifier), headers=HTMX)
    assert response.status_code == 400
    assert PESEL not in response.get_data(as_text=True)
    assert not AuditEvent.select().where(AuditEvent.action == "identifier_revealed").exists()


def test_signed_out_visitors_cannot_reveal(client, anna):
    identifier = stored(anna)
    token = csrf_token_from(client)
    response = client.post(reveal_url(anna, identifier), headers={"X-CSRFToken": token})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert not AuditEvent.select().where(AuditEvent.action == "identifier_revealed").exists()


def test_an_identifier_is_revealed_only_through_its_own_customer(staff_client, anna):
    identifier = stored(anna)
    other = make_customer("Jan", "Kowalski")
    response = reveal(staff_client, other, identifier)
    assert response.status_code == 404
    assert PESEL not in response.get_data(as_text=True)
    assert not AuditEvent.select().where(AuditEvent.action == "identifier_revealed").exists()


# --- Keys that do not fit ---------------------------------------------------------------


def test_tampered_ciphertext_fails_authentication(staff_client, anna):
    identifier = stored(anna)
    token = bytearray(bytes(identifier.ciphertext))
    token[40] = ord("A") if token[40] != ord("A") else ord("B")
    SensitiveIdentifier.update(ciphertext=bytes(token)).where(
        SensitiveIdentifier.id == identifier.id
    ).execute()

    with pytest.raises(identifiers.DecryptionFailed, match="does not authenticate"):
        keyring().decrypt(bytes(token), identifier.key_id, identifier_id=identifier.id)
    response = reveal(staff_client, anna, identifier, headers={})
    assert response.status_code == 500
    assert "cannot be decrypted" in response.get_data(as_text=True)
    # Nothing was revealed, so nothing is recorded as revealed.
    assert not AuditEvent.select().where(AuditEvent.action == "identifier_revealed").exists()


def test_the_wrong_keys_fail_clearly(app, anna):
    identifier = stored(anna)
    other_key = Fernet.generate_key().decode()

    with pytest.raises(identifiers.KeyUnavailable) as raised:
        identifiers.reveal(identifier.id, None, keyring=keyring(other_key))
    message = str(raised.value)
    assert f"identifier {identifier.id}" in message
    assert identifier.key_id in message and "not in ENCRYPTION_KEYS" in message
    assert ENCRYPTION_KEY not in message and other_key not in message
    # An app configured with only the other key answers with a notice, not a value.
    app.config["ENCRYPTION_KEYS"] = [other_key]
    with app.app_context(), pytest.raises(identifiers.KeyUnavailable):
        identifiers.reveal(identifier.id, None)


def test_a_key_of_the_same_id_but_different_bytes_cannot_pass_for_it(anna):
    identifier = stored(anna)
    impostor = identifiers.Keyring([Fernet.generate_key().decode()])
    with pytest.raises(identifiers.DecryptionFailed):
        impostor.decrypt(bytes(identifier.ciphertext), impostor.current_id)


def test_missing_or_malformed_keys_are_refused_without_echoing_them():
    with pytest.raises(identifiers.KeyConfigurationError, match="No encryption key"):
        identifiers.Keyring([])
    with pytest.raises(identifiers.KeyConfigurationError, match="Entry 2") as raised:
        identifiers.Keyring([ENCRYPTION_KEY, "not-a-key-at-all"])
    assert "not-a-key-at-all" not in str(raised.value)


# --- Bad input --------------------------------------------------------------------------

INVALID = [
    ("national_id", "", "Enter the number."),
    ("national_id", " - ", "Enter the number."),
    ("national_id", "4405 1401 358", "This PESEL number does not add up; check the digits."),
    ("national_id", "4405140135", "A PESEL number has 11 digits."),
    ("tax_number", "123-456-32-19", "This NIP number does not add up; check the digits."),
    ("tax_number", "123 456 321", "A NIP number has 10 digits."),
    ("national_id", "AB#1234", "Use letters and digits only; spaces and dashes are fine."),
    ("national_id", "AB1", "An identifier has 4 to 32 letters and digits."),
    ("tax_number", "X" * 33, "An identifier has 4 to 32 letters and digits."),
]


@pytest.mark.parametrize("kind, value, message", INVALID)
def test_bad_input_is_explained_beside_the_number_and_nothing_is_saved(
    staff_client, anna, kind, value, message
):
    response = post_identifier(staff_client, anna, kind=kind, value=value)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="identifier-value-error">{message}</p>' in html
    assert 'aria-invalid="true"' in html and '<details class="identifier-add" open>' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert SensitiveIdentifier.select().count() == 0
    assert not AuditEvent.select().where(AuditEvent.action == "identifier_added").exists()


def test_an_unknown_kind_is_refused(staff_client, anna):
    response = post_identifier(staff_client, anna, kind="passport")
    assert response.status_code == 422
    assert 'id="identifier-kind-error"' in response.get_data(as_text=True)
    assert SensitiveIdentifier.select().count() == 0


def test_the_same_number_twice_is_refused(staff_client, anna):
    stored(anna)
    response = post_identifier(staff_client, anna)
    assert response.status_code == 422
    assert "This customer already has this number." in response.get_data(as_text=True)
    assert SensitiveIdentifier.select().count() == 1


def test_without_htmx_bad_input_comes_back_on_the_profile(staff_client, anna):
    response = post_identifier(staff_client, anna, value="123", headers={})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<h1 id="profile-name">Anna Nowak</h1>' in html
    assert "A PESEL number has 11 digits." in html
    assert SensitiveIdentifier.select().count() == 0


@pytest.mark.parametrize(
    "kind, typed, kept",
    [
        ("national_id", PESEL_TYPED, PESEL),
        ("tax_number", "PL 123-456-32-18", NIP),
        ("national_id", "fr 12ab 3456", "FR12AB3456"),  # letters: a foreign document
        ("tax_number", "DE\u00a0123.456.789", "DE123456789"),
    ],
)
def test_numbers_are_kept_without_separators(kind, typed, kept):
    assert identifiers.normalize(kind, typed, "PL") == kept


def test_outside_poland_only_the_general_rule_applies(staff_client, anna):
    settings.put("default_phone_region", "DE")
    response = post_identifier(staff_client, anna, value="12345")
    assert response.status_code == 200
    assert SensitiveIdentifier.get().last_four == "2345"


# --- Remove -----------------------------------------------------------------------------


def test_staff_remove_an_identifier_and_it_is_audited(staff_client, anna):
    identifier = stored(anna)
    token = csrf_token_from(staff_client, f"/customers/{anna.id}")
    response = staff_client.post(
        f"/customers/{anna.id}/identifiers/{identifier.id}/remove",
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert "Identifier removed." in response.get_data(as_text=True)
    assert SensitiveIdentifier.select().count() == 0
    event = AuditEvent.get(AuditEvent.action == "identifier_removed")
    assert event.target_id == anna.id
    assert json.loads(event.details) == {"identifier_id": identifier.id}
