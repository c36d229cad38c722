"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests.

    def test_reply_is_mailed(app, smtp_server):
        smtp_server.configure(app)            # the app now sends to this server
        ...                                   # do what sends mail
        [message] = smtp_server.messages      # email.message.EmailMessage
        assert message["To"] == "anna@example.com"
        assert "Thank you" in smtp_server.body(message)

smtp_server.envelopes holds (mail_from, rcpt_tos) per message, in the same order.
smtp_server.refuse(address) answers 550 for that recipient, as a server does for a mailbox that
does not exist; smtp_server.before_accepting(n, action) runs action() when the n-th message's
data has arrived, and then does not accept it (a crash of the sender at that moment).
"""

import socket
import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


class SmtpServer:
    def __init__(self, port: int):
        self.host = HOST
        self.port = port
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._refused: set[str] = set()
        self._interruption: tuple[int, object] | None = None
        self._data_count = 0

    def refuse(self, address: str) -> None:
        self._refused.add(address)

    def before_accepting(self, n: int, action) -> None:
        self._interruption = (n, action)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self._refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    # aiosmtpd handler hook: runs on the server's thread before the client hears "250".
    async def handle_DATA(self, server, session, envelope):
        self._data_count += 1
        if self._interruption and self._interruption[0] == self._data_count:
            self._interruption[1]()
            return "451 4.3.0 Interrupted before the message was accepted"
        message = message_from_bytes(envelope.content, policy=default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def configure(self, app) -> None:
        """Point the app's mail at this server (mail reads its config at send time)."""
        app.config.update(
            MAIL_SERVER=self.host,
            MAIL_PORT=self.port,
            MAIL_USE_TLS=False,
            MAIL_USE_SSL=False,
            MAIL_USERNAME="",
            MAIL_PASSWORD="",
        )

    def to(self, address: str) -> list[EmailMessage]:
        """Messages delivered to this address."""
        return [
            message
            for message, (_sender, recipients) in zip(self.messages, self.envelopes, strict=True)
            if address in recipients
        ]

    @staticmethod
    def body(message: EmailMessage) -> str:
        """The plain-text body, decoded, with the wire's CRLF line ends turned back into \n."""
        return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """An SMTP server on a free loopback port for one test; see the module docstring."""
    server = SmtpServer(_free_port())
    controller = Controller(server, hostname=HOST, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
