"""Outgoing mail: templates rendered in the recipient's language, sent over SMTP.

Without MAIL_SERVER (development), each message is written as an .eml file to
MAIL_OUTBOX_DIR (instance/outbox/) so a developer can open it in any mail reader.
Callers need an app context (any request has one; elsewhere `with app.app_context()`).
"""

import logging
import os
import smtplib
import ssl
import uuid
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from flask import current_app, render_template

from .i18n import in_language
from .models import utcnow

log = logging.getLogger(__name__)


class MailNotSent(RuntimeError):
    """The SMTP server could not be reached or refused the message."""


class RecipientRefused(MailNotSent):
    """The server refused this recipient or message for good (a 5xx answer): trying again
    later would not help, unlike a server that cannot be reached."""


def send_template(name: str, *, to: str, language: str, **context) -> None:
    """Render templates/mail/<name>.subject.txt and <name>.txt in `language` and send them."""
    with in_language(language):
        subject = render_template(f"mail/{name}.subject.txt", **context)
        body = render_template(f"mail/{name}.txt", **context)
    message = compose(subject=subject, body=body, to=to, language=language)
    send(message)


def compose(
    *,
    subject: str,
    body: str,
    to: str,
    language: str,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    # A subject is one line: a template's trailing newline or a stray break would split it.
    message["Subject"] = " ".join(subject.split())
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Date"] = format_datetime(utcnow().replace(tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain())
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body, charset="utf-8")
    message["Content-Language"] = language  # after set_content, which clears Content-* headers
    return message


def send(message: EmailMessage) -> None:
    """Deliver over SMTP, or write to the outbox folder when no server is configured."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        path = write_to_outbox(message, Path(config["MAIL_OUTBOX_DIR"]))
        log.info("MAIL_SERVER is not set: message written to %s", path)
        return
    try:
        with _connect(config) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise RecipientRefused(_reply_text(code, reply)) from exc
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise RecipientRefused(_reply_text(exc.smtp_code, exc.smtp_error)) from exc
        raise MailNotSent(str(exc)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(str(exc)) from exc


def write_to_outbox(message: EmailMessage, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    path = folder / name
    # Messages hold customers' addresses and words: readable by the app's user only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes())
    return path


# --- Helpers ----------------------------------------------------------------------------


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config.get("MAIL_TIMEOUT", 10)
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return smtp


def sender_domain() -> str:
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "localhost"


def _reply_text(code: int, reply) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}"
