"""Signed, expiring ids for links sent by e-mail (a complaint's rating link, an erasure
confirmation): nothing is stored; the signature (SECRET_KEY, one salt per purpose) and its
age say whether a link is genuine and still valid."""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign(salt: str, record_id: int) -> str:
    return _serializer(salt).dumps(record_id)


def read(salt: str, token: str, days: int, *, expired: type[Exception], invalid: type[Exception]):
    """The record id a token carries; raises `expired` or `invalid` (the caller's errors)."""
    try:
        record_id = _serializer(salt).loads(token, max_age=days * 24 * 3600)
    except SignatureExpired as exc:
        raise expired("the link has expired") from exc
    except BadSignature as exc:
        raise invalid("the link is not valid") from exc
    if not isinstance(record_id, int):
        raise invalid("the link is not valid")
    return record_id
