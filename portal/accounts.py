"""Staff accounts: creating them and checking a sign-in."""

from peewee import IntegrityError

from . import passwords
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
