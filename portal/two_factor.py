"""Two-factor sign-in with time-based codes (RFC 6238, via pyotp) and recovery codes.

Owners can export the whole customer base, so they sign in with a password and a code from
an authenticator app. The TOTP secret is sealed with ENCRYPTION_KEYS like sensitive
identifiers. A code works once: the last used time step is kept and only a later one passes,
which also stops two requests racing with the same code.
"""

import hashlib
import secrets
import time

import pyotp
import segno

from .identifiers import current_keyring
from .models import RecoveryCode, StaffAccount, utcnow

ISSUER = "Kartoteka"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
STEP_SECONDS = 30


def _seal(secret: str) -> tuple[bytes, str]:
    return current_keyring().encrypt(secret)


def secret_of(account: StaffAccount) -> str | None:
    if account.totp_secret is None:
        return None
    return current_keyring().decrypt(account.totp_secret, account.totp_key_id)


def begin_setup(account: StaffAccount) -> str:
    """The secret the owner is setting up now: a new one unless set-up is already under way."""
    if account.totp_secret is not None and not account.has_two_factor:
        return secret_of(account)
    secret = pyotp.random_base32()
    account.totp_secret, account.totp_key_id = _seal(secret)
    account.totp_enabled_at = None
    account.totp_last_step = 0
    account.save(
        only=[
            StaffAccount.totp_secret,
            StaffAccount.totp_key_id,
            StaffAccount.totp_enabled_at,
            StaffAccount.totp_last_step,
        ]
    )
    return secret


def setup_uri(account: StaffAccount, secret: str, issuer: str = ISSUER) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of uri as inline SVG (no script, no style attribute: fine under our CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _accept_time_code(account: StaffAccount, code: str, now: float | None = None) -> bool:
    """True when code is right for now (one step of clock drift either way) and newer than the
    last code used; the step is claimed with a conditional UPDATE so a code works only once."""
    secret = secret_of(account)
    # isascii: "²" and "٣" are digits to isdigit, and compare_digest refuses non-ASCII text.
    if secret is None or len(code) != 6 or not (code.isascii() and code.isdigit()):
        return False
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            claimed = (
                StaffAccount.update(totp_last_step=step)
                .where(StaffAccount.id == account.id, StaffAccount.totp_last_step < step)
                .execute()
            )
            if claimed:
                account.totp_last_step = step
            return bool(claimed)
    return False


def confirm_setup(account: StaffAccount, code: str) -> list[str] | None:
    """Turn two-factor sign-in on when the first code from the app is right; returns the new
    recovery codes (shown once), or None for a wrong code."""
    if account.totp_secret is None or not _accept_time_code(account, _normalise(code)):
        return None
    account.totp_enabled_at = utcnow()
    account.save(only=[StaffAccount.totp_enabled_at])
    return new_recovery_codes(account)


def verify(account: StaffAccount, code: str) -> str | None:
    """Check a sign-in's second step: "totp" or "recovery" for the kind of code that passed."""
    if not account.has_two_factor:
        return None
    code = _normalise(code)
    if _accept_time_code(account, code):
        return "totp"
    if len(code) == 10:
        used = (
            RecoveryCode.update(used_at=utcnow())
            .where(
                RecoveryCode.staff == account.id,
                RecoveryCode.code_hash == _hash(code),
                RecoveryCode.used_at.is_null(),
            )
            .execute()
        )
        if used:
            return "recovery"
    return None


def _hash(code: str) -> str:
    return hashlib.sha256(b"kartoteka-recovery\0" + code.encode()).hexdigest()


def new_recovery_codes(account: StaffAccount) -> list[str]:
    """Replace the account's recovery codes with fresh ones; returns them as the owner sees them."""
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        for _ in range(RECOVERY_CODES)
    ]
    RecoveryCode.delete().where(RecoveryCode.staff == account.id).execute()
    RecoveryCode.insert_many(
        [{"staff": account.id, "code_hash": _hash(code)} for code in codes]
    ).execute()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(account: StaffAccount) -> int:
    return (
        RecoveryCode.select()
        .where(RecoveryCode.staff == account.id, RecoveryCode.used_at.is_null())
        .count()
    )


def reset(account: StaffAccount) -> None:
    """Forget the account's authenticator and recovery codes (lost phone); an owner then sets
    it up again at the next sign-in."""
    StaffAccount.update(
        totp_secret=None, totp_key_id="", totp_enabled_at=None, totp_last_step=0
    ).where(StaffAccount.id == account.id).execute()
    RecoveryCode.delete().where(RecoveryCode.staff == account.id).execute()


def rotate_secrets(keyring) -> int:
    """Re-seal the TOTP secrets not under the keyring's current key (`flask keys rotate`);
    a row is only rewritten if it still has the key it was read with."""
    rotated = 0
    stale = StaffAccount.select().where(
        StaffAccount.totp_secret.is_null(False), StaffAccount.totp_key_id != keyring.current_id
    )
    for account in stale:
        secret = keyring.decrypt(account.totp_secret, account.totp_key_id)
        ciphertext, key_id = keyring.encrypt(secret)
        rotated += (
            StaffAccount.update(totp_secret=ciphertext, totp_key_id=key_id)
            .where(StaffAccount.id == account.id, StaffAccount.totp_key_id == account.totp_key_id)
            .execute()
        )
    return rotated
