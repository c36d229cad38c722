"""The encryption key can be rotated while the app runs: `flask keys generate`, then `flask keys rotate`."""

import pytest
from cryptography.fernet import Fernet

from portal import identifiers
from portal.models import AuditEvent, SensitiveIdentifier, StaffAccount
from tests.conftest import ENCRYPTION_KEY
from tests.factories import make_customer

KEY_A = ENCRYPTION_KEY
KEY_B = "RZ_eCTwJjl4ghp0QtOr8syRBVlchoGTMuNzQAKky79I="  # test-only
KEY_C = "GQcvXhu3dJUADLgHM0Wp7sFl9gkGY0W5c_x0sZh-w54="  # test-only, never configured
VALUES = ["44051401359", "02070803628", "AB1234567", "FR12AB3456", "90090515836"]


@pytest.fixture
def under_a(app):
    """Five identifiers of three customers, encrypted under key A."""
    people = [make_customer("Anna", "Nowak"), make_customer("Jan", "Kowalski"), make_customer()]
    ring = identifiers.Keyring([KEY_A])
    return {
        identifiers.add(people[i % 3].id, "national_id", value, None, keyring=ring).id: value
        for i, value in enumerate(VALUES)
    }


def configure(app, *keys):
    app.config["ENCRYPTION_KEYS"] = list(keys)


def run(app, *args):
    return app.test_cli_runner().invoke(args=["keys", *args])


def interrupt(progress):
    """Stop a rotation after its first batch, as Ctrl+C or a crash would."""
    raise KeyboardInterrupt


def key_ids() -> set[str]:
    return {row.key_id for row in SensitiveIdentifier.select(SensitiveIdentifier.key_id)}


def readable_with(*keys) -> dict[int, str]:
    ring = identifiers.Keyring(list(keys))
    return {
        row.id: ring.decrypt(row.ciphertext, row.key_id, identifier_id=row.id)
        for row in SensitiveIdentifier.select()
    }


def test_rotation_moves_every_identifier_to_the_new_key(app, under_a):
    configure(app, KEY_B, KEY_A)

    result = run(app, "rotate", "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert key_ids() == {identifiers.key_id(KEY_B)}
    assert readable_with(KEY_B, KEY_A) == under_a
    # Key A is no longer needed
    assert readable_with(KEY_B) == under_a
    configure(app, KEY_B)
    with app.app_context():
        first = min(under_a)
        assert identifiers.reveal(first, None) == under_a[first]
    # progress batch by batch, then a summary
    assert "2 of 5 done" in result.output and "4 of 5 done" in result.output
    assert "5 of 5 done" in result.output
    assert f"Re-encrypted 5 identifiers under key {identifiers.key_id(KEY_B)}." in result.output
    event = AuditEvent.get(AuditEvent.action == "encryption_key_rotated")
    assert event.actor_type == "system" and '"rotated": 5' in event.details
    assert KEY_A not in result.output and KEY_B not in result.output


def test_rotation_is_idempotent(app, under_a):
    configure(app, KEY_B, KEY_A)
    run(app, "rotate")
    sealed = {row.id: bytes(row.ciphertext) for row in SensitiveIdentifier.select()}

    again = run(app, "rotate")

    assert again.exit_code == 0
    assert "Nothing to do" in again.output
    assert {row.id: bytes(row.ciphertext) for row in SensitiveIdentifier.select()} == sealed
    assert AuditEvent.select().where(AuditEvent.action == "encryption_key_rotated").count() == 1


def test_an_interrupted_rotation_continues_where_it_stopped(app, under_a):
    configure(app, KEY_B, KEY_A)

    with app.app_context(), pytest.raises(KeyboardInterrupt):
        identifiers.rotate(batch_size=2, on_batch=interrupt)
    # the first batch was committed on its own; the rest still reads with key A
    assert key_ids() == {identifiers.key_id(KEY_A), identifiers.key_id(KEY_B)}
    assert readable_with(KEY_B, KEY_A) == under_a

    result = run(app, "rotate", "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert "Re-encrypted 3 identifiers" in result.output
    assert readable_with(KEY_B) == under_a


def test_the_app_keeps_working_during_a_rotation(app, under_a):
    """Rows written under either key read back while a rotation is half done."""
    configure(app, KEY_B, KEY_A)
    with app.app_context():
        with pytest.raises(KeyboardInterrupt):
            identifiers.rotate(batch_size=2, on_batch=interrupt)
        newcomer = identifiers.add(make_customer().id, "tax_number", "1234563218", None)
        assert newcomer.key_id == identifiers.key_id(KEY_B)
        assert {i: identifiers.reveal(i, None) for i in under_a} == under_a


def test_rows_that_cannot_be_read_are_reported_and_the_rest_rotated(app, under_a):
    stranger = identifiers.add(
        make_customer().id, "national_id", "ZZ99887766", None, keyring=identifiers.Keyring([KEY_C])
    )
    configure(app, KEY_B, KEY_A)

    result = run(app, "rotate")

    assert result.exit_code == 1
    assert f"identifier {stranger.id}" in result.output
    assert "1 identifiers could not be re-encrypted" in result.output
    assert "Keep every old key in ENCRYPTION_KEYS" in result.output
    assert SensitiveIdentifier.get_by_id(stranger.id).key_id == identifiers.key_id(KEY_C)
    rest = SensitiveIdentifier.select().where(SensitiveIdentifier.id != stranger.id)
    assert {row.key_id for row in rest} == {identifiers.key_id(KEY_B)}


def test_generate_prints_a_fresh_key_and_how_to_use_it(app):
    first, second = run(app, "generate"), run(app, "generate")

    key = first.stdout.strip()
    Fernet(key)  # a usable key
    assert key != second.stdout.strip()
    assert f"Key id {identifiers.key_id(key)}" in first.stderr
    assert "FIRST in ENCRYPTION_KEYS" in first.stderr


def test_status_counts_identifiers_per_key(app, under_a):
    configure(app, KEY_B, KEY_A)
    result = run(app, "status")
    lines = result.output.splitlines()
    assert f"{identifiers.key_id(KEY_B)}  current  0 identifiers" in lines
    assert f"{identifiers.key_id(KEY_A)}  old      5 identifiers" in lines

    configure(app, KEY_B)
    result = run(app, "status")
    assert f"{identifiers.key_id(KEY_A)}  MISSING  5 identifiers" in result.output


def test_a_malformed_key_stops_the_rotation_with_a_clear_message(app, under_a):
    configure(app, "oops", KEY_A)
    result = run(app, "rotate")
    assert result.exit_code == 1
    assert "Entry 1 of ENCRYPTION_KEYS is not a key" in result.output
    assert key_ids() == {identifiers.key_id(KEY_A)}


def test_rotation_moves_owners_two_factor_secrets_too(app, owner):
    old_secret = identifiers.Keyring([KEY_A]).decrypt(
        StaffAccount.get_by_id(owner.id).totp_secret, identifiers.key_id(KEY_A)
    )
    configure(app, KEY_B, KEY_A)

    result = run(app, "rotate")

    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 two-factor secrets" in result.output
    account = StaffAccount.get_by_id(owner.id)
    assert account.totp_key_id == identifiers.key_id(KEY_B)
    # Readable with the new key alone: the old one can now be removed.
    assert (
        identifiers.Keyring([KEY_B]).decrypt(account.totp_secret, account.totp_key_id) == old_secret
    )
