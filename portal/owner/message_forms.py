"""The message part shared by the campaign and automation forms: a subject and a body in each
language, with placeholders checked so a typo never reaches a customer."""

from flask_babel import lazy_gettext as _l
from wtforms import Form, FormField, StringField, TextAreaField, ValidationError
from wtforms.validators import Length

from .. import message_content
from ..form_fields import no_control_characters
from ..i18n import LANGUAGE_NAMES
from ..message_content import LANGUAGES, Text


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _known_placeholders(form, field):
    unknown = message_content.unknown_placeholders(field.data)
    if unknown:
        raise ValidationError(
            _l(
                "Unknown placeholder: %(names)s. Use one of: %(known)s.",
                names=", ".join("{" + name + "}" for name in unknown),
                known=", ".join("{" + name + "}" for name in message_content.PLACEHOLDERS),
            )
        )


class MessageTextForm(Form):
    """The subject and body in one language."""

    subject = StringField(
        _l("Subject"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(
                max=message_content.SUBJECT_MAX_LENGTH,
                message=_l("Use at most %(max)d characters."),
            ),
            _known_placeholders,
        ],
    )
    body = TextAreaField(
        _l("Message"),
        filters=[_strip],
        validators=[
            Length(
                max=message_content.BODY_MAX_LENGTH,
                message=_l("Keep the message to %(max)d characters or fewer."),
            ),
            _known_placeholders,
        ],
        render_kw={"rows": 8},
    )

    def validate_body(self, field):
        # Line breaks and tabs belong in a message; other control characters do not.
        if any(ord(c) < 32 and c not in "\n\r\t" for c in field.data or ""):
            raise ValidationError(_l("Remove the invisible control characters from this text."))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if bool(self.subject.data) != bool(self.body.data):
            missing = self.body if self.subject.data else self.subject
            missing.errors = [
                *missing.errors,
                _l("Give both the subject and the message, or neither."),
            ]
            return False
        return valid


class MessageContentMixin:
    """Adds en/ru/pl/zh subject-and-body groups to a FlaskForm; at least one language is
    required (a customer whose language is missing gets the first language given)."""

    en = FormField(MessageTextForm, label=LANGUAGE_NAMES["en"])
    ru = FormField(MessageTextForm, label=LANGUAGE_NAMES["ru"])
    pl = FormField(MessageTextForm, label=LANGUAGE_NAMES["pl"])
    zh = FormField(MessageTextForm, label=LANGUAGE_NAMES["zh"])

    def _mark_languages(self) -> None:
        # The boxes hold text in their own language (spell-checking, screen readers).
        for language in LANGUAGES:
            for box in (self[language].subject, self[language].body):
                box.render_kw = {**(box.render_kw or {}), "lang": language}

    @property
    def languages(self):
        return [self[language] for language in LANGUAGES]

    def validate_content(self) -> bool:
        """Call from the form's validate(): one language at least must be written."""
        if any(self[language].subject.data for language in LANGUAGES):
            return True
        self.en.subject.errors = [
            *self.en.subject.errors,
            _l("Write the subject and message in at least one language."),
        ]
        return False

    @property
    def content(self) -> str:
        """The stored JSON (message_content.dump)."""
        return message_content.dump(
            {
                language: Text(self[language].subject.data, self[language].body.data)
                for language in LANGUAGES
                if self[language].subject.data
            }
        )

    def fill_content(self, content: str) -> None:
        for language, text in message_content.parse(content).items():
            self[language].subject.data = text.subject
            self[language].body.data = text.body
