"""Staff accounts: creating them, checking a sign-in, and what owners and the person change."""

from peewee import IntegrityError

from . import passwords, sign_in_sessions, two_factor
from .models import StaffAccount, utcnow


class AccountExists(ValueError):
    pass


def create_staff(name: str, email: str, password: str, role: str = "staff") -> StaffAccount:
    """Create an active staff account; raises AccountExists when the e-mail is taken."""
    if role not in StaffAccount.ROLES:
        raise ValueError(f"unknown role {role!r}")
    try:
        return StaffAccount.create(
            name=name.strip(),
            email=email.strip().lower(),
            role=role,
            password_hash=passwords.hash_password(password),
        )
    except IntegrityError as exc:
        raise AccountExists(email) from exc


def authenticate(email: str, password: str) -> tuple[StaffAccount | None, StaffAccount | None]:
    """Check a sign-in. Returns (signed-in account or None, account the e-mail names or None).

    Unknown e-mails cost as much time as known ones, so timing does not reveal accounts.
    A hash made with older Argon2 parameters is replaced on success.
    """
    account = StaffAccount.by_email(email).first()
    if account is None:
        passwords.burn_time(password)
        return None, None
    if not passwords.verify(account.password_hash, password) or not account.active:
        return None, account
    account.last_sign_in_at = utcnow()
    fields = [StaffAccount.last_sign_in_at]
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
        fields.append(StaffAccount.password_hash)
    account.save(only=fields)
    return account, account


def set_password(account: StaffAccount, password: str, *, keep_session: str | None = None) -> None:
    """Give the account a new password; every other session of it ends (a copied cookie or a
    forgotten browser stops working)."""
    account.password_hash = passwords.hash_password(password)
    account.save(only=[StaffAccount.password_hash])
    sign_in_sessions.end_all_for_staff(account.id, except_token=keep_session)


def change_own_password(
    account: StaffAccount, current: str, new: str, *, session_token: str | None
) -> bool:
    """The person changes their password; False when the current one is wrong."""
    if not passwords.verify(account.password_hash, current):
        return False
    set_password(account, new, keep_session=session_token)
    return True


def set_active(account: StaffAccount, active: bool) -> None:
    account.active = active
    account.save(only=[StaffAccount.active])
    if not active:
        sign_in_sessions.end_all_for_staff(account.id)


def set_role(account: StaffAccount, role: str) -> None:
    if role not in StaffAccount.ROLES:
        raise ValueError(f"unknown role {role!r}")
    account.role = role
    account.save(only=[StaffAccount.role])


def reset_two_factor(account: StaffAccount) -> None:
    """Forget a lost authenticator; the account's sessions end and, for an owner, the next
    sign-in sets up a new one."""
    two_factor.reset(account)
    sign_in_sessions.end_all_for_staff(account.id)
