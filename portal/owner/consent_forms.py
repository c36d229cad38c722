"""Owner forms: consent purposes with wording per language, and contact lists for a purpose."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length

from .. import consent
from ..form_fields import no_control_characters
from ..i18n import LANGUAGE_NAMES

CODE = re.compile(r"[a-z][a-z0-9_]*")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class WordingForm(Form):
    """A purpose's title and text in one language."""

    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(max=consent.TITLE_MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
    )
    text = TextAreaField(
        _l("Wording the customer agrees to"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(
                max=consent.TEXT_MAX_LENGTH,
                message=_l("Keep the wording to %(max)d characters or fewer."),
            ),
        ],
        render_kw={"rows": 4},
    )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if bool(self.title.data) != bool(self.text.data):
            # Half a translation would show customers a title without the words they agree to.
            missing = self.text if self.title.data else self.title
            missing.errors = [
                *missing.errors,
                _l("Give both the title and the wording, or neither."),
            ]
            return False
        return valid


class EnglishWordingForm(WordingForm):
    """English is the wording every other language falls back to, so it is required."""

    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the English title.")),
            no_control_characters,
            Length(max=consent.TITLE_MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
    )
    text = TextAreaField(
        _l("Wording the customer agrees to"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the English wording.")),
            no_control_characters,
            Length(
                max=consent.TEXT_MAX_LENGTH,
                message=_l("Keep the wording to %(max)d characters or fewer."),
            ),
        ],
        render_kw={"rows": 4},
    )


class WordingVersionForm(FlaskForm):
    """The wording in every language; saving it makes a new version."""

    en = FormField(EnglishWordingForm, label=LANGUAGE_NAMES["en"])
    ru = FormField(WordingForm, label=LANGUAGE_NAMES["ru"])
    pl = FormField(WordingForm, label=LANGUAGE_NAMES["pl"])
    zh = FormField(WordingForm, label=LANGUAGE_NAMES["zh"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The boxes hold text in their own language (spell-checking, screen readers).
        for language in consent.LANGUAGES:
            for box in (self[language].title, self[language].text):
                box.render_kw = {**(box.render_kw or {}), "lang": language}

    @property
    def languages(self):
        return [self[language] for language in consent.LANGUAGES]

    @property
    def texts(self) -> dict[str, tuple[str, str]]:
        return {
            language: (self[language].title.data or "", self[language].text.data or "")
            for language in consent.LANGUAGES
        }

    def fill_from(self, wordings: dict) -> None:
        """Start from a version's wording (language → ConsentWording)."""
        for language, wording in wordings.items():
            if language in consent.LANGUAGES:
                self[language].title.data = wording.title
                self[language].text.data = wording.text


def _code_format(form, field):
    if field.data and not CODE.fullmatch(field.data):
        raise ValidationError(
            _l("Use lower-case Latin letters, digits and _ only, starting with a letter.")
        )


class PurposeForm(WordingVersionForm):
    code = StringField(
        _l("Code"),
        filters=[_strip, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[
            DataRequired(_l("Enter a short code, like email_marketing.")),
            Length(max=consent.CODE_MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
            _code_format,
        ],
    )


class ActiveForm(FlaskForm):
    """Deactivate or reactivate a purpose: a button with its CSRF token."""


CONTACT_CHANNELS = {"email": _l("E-mail"), "phone": _l("Phone")}


class ContactListForm(FlaskForm):
    """Which list: a purpose, optionally a saved segment, and the channel.

    Read from the query string for the preview; posted with a CSRF token for the download.
    """

    purpose = SelectField(_l("Consent purpose"), choices=[], validate_choice=False)
    segment = SelectField(_l("Customers"), choices=[], validate_choice=False, default="")
    channel = SelectField(
        _l("Contact by"),
        choices=[SelectChoice(code, label) for code, label in CONTACT_CHANNELS.items()],
        default="email",
        validate_choice=False,
    )

    def validate_purpose(self, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose one of the purposes listed."))

    def validate_segment(self, field):
        if (field.data or "") not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose one of the segments listed."))

    def validate_channel(self, field):
        if field.data not in CONTACT_CHANNELS:
            raise ValidationError(_l("Choose e-mail or phone."))
