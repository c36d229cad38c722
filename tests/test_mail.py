"""Mail goes out over real SMTP (aiosmtpd on loopback) in the recipient's language, and
without a mail server lands in the outbox folder for a developer to read."""

from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from flask import render_template_string

from portal import mail


@pytest.fixture
def greeting(app, tmp_path):
    """A throwaway mail template (the real ones belong to the features that send them)."""
    folder = tmp_path / "templates"
    (folder / "mail").mkdir(parents=True)
    (folder / "mail" / "greeting.subject.txt").write_text(
        '{{ _("Sign in") }}: {{ subject }}\n', encoding="utf-8"
    )
    (folder / "mail" / "greeting.txt").write_text(
        '{{ _("Sign in") }}\n\n{{ text }}\n', encoding="utf-8"
    )
    from jinja2 import ChoiceLoader, FileSystemLoader

    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(folder)), app.jinja_loader])
    return "greeting"


def test_smtp_server_receives_the_message(app, smtp_server, greeting):
    smtp_server.configure(app)
    app.config["MAIL_FROM"] = "Sklep Ani <sklep@example.com>"
    with app.test_request_context():
        mail.send_template(
            greeting, to="anna@example.com", language="en", subject="Order 42", text="Hello Anna."
        )
    [message] = smtp_server.messages
    assert message["Subject"] == "Sign in: Order 42"
    assert message["To"] == "anna@example.com"
    assert message["From"] == "Sklep Ani <sklep@example.com>"
    assert message["Message-ID"].endswith("@example.com>")
    assert smtp_server.body(message) == "Sign in\n\nHello Anna.\n"
    assert smtp_server.envelopes == [("sklep@example.com", ["anna@example.com"])]


@pytest.mark.parametrize(
    ("language", "subject", "text", "heading"),
    [
        ("ru", "Жалоба № 7", "Здравствуйте, Ольга! Мы вернули деньги.", "Войти"),
        ("zh", "投诉 7", "您好，王女士：我们已经退款。", "登录"),
    ],
)
def test_russian_and_chinese_arrive_intact_in_the_recipients_language(
    app, smtp_server, greeting, language, subject, text, heading
):
    smtp_server.configure(app)
    # The person sending works in Polish (the page has used the Polish catalog already);
    # the customer reads their own language, and the page goes on in Polish.
    with app.test_request_context(headers={"Accept-Language": "pl"}):
        assert render_template_string('{{ _("Sign in") }}') == "Zaloguj się"
        mail.send_template(
            greeting, to="klient@example.com", language=language, subject=subject, text=text
        )
        assert render_template_string('{{ _("Sign in") }}') == "Zaloguj się"
    [message] = smtp_server.to("klient@example.com")
    assert message["Subject"] == f"{heading}: {subject}"
    assert message["Content-Language"] == language
    assert message.get_content_charset() == "utf-8"
    assert smtp_server.body(message) == f"{heading}\n\n{text}\n"


def test_without_a_mail_server_the_message_is_written_to_the_outbox(app, greeting):
    assert app.config["MAIL_SERVER"] == ""
    with app.test_request_context():
        mail.send_template(
            greeting, to="anna@example.com", language="ru", subject="№ 7", text="Спасибо."
        )
    outbox = Path(app.instance_path) / "outbox"
    [path] = outbox.glob("*.eml")
    assert path.stat().st_mode & 0o077 == 0  # customers' words: readable by the app only
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert message["To"] == "anna@example.com"
    assert message["Subject"] == "Войти: № 7"
    assert message.get_content() == "Войти\n\nСпасибо.\n"


def test_an_unreachable_server_raises_mail_not_sent(app, smtp_server, greeting):
    smtp_server.configure(app)
    app.config["MAIL_PORT"] = smtp_server.port + 1  # nobody listens there (most likely)
    with app.test_request_context(), pytest.raises(mail.MailNotSent):
        mail.send_template(greeting, to="anna@example.com", language="en", subject="x", text="y")
    assert smtp_server.messages == []
