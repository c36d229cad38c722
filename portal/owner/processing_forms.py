"""The settings the record of processing is written from: the business, its recipients,
transfers outside the EEA and the owner's own security measures."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from ..form_fields import no_control_characters

NAME_MAX_LENGTH = 120
CONTACT_MAX_LENGTH = 200
ADDRESS_MAX_LINES = 6
LINE_MAX_LENGTH = 300  # one recipient, one security measure or one line of the address
LIST_MAX_LINES = 30
TRANSFERS_MAX_LENGTH = 2000

# Field name → setting key. Each list field holds one item per line.
SETTINGS = {
    "business_name": "business_name",
    "business_address": "business_address",
    "privacy_contact": "privacy_contact",
    "recipients": "processing_recipients",
    "transfers": "processing_transfers",
    "security_measures": "processing_security_measures",
}
LIST_FIELDS = ("recipients", "security_measures")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lines(text: str) -> list[str]:
    """The non-empty lines of a text area, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _line_limits(max_lines: int):
    def check(form, field):
        lines = _lines(field.data)
        if len(lines) > max_lines:
            raise ValidationError(
                _l(
                    "Enter at most %(max)d lines; this has %(count)d.",
                    max=max_lines,
                    count=len(lines),
                )
            )
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            if len(line.strip()) > LINE_MAX_LENGTH:
                raise ValidationError(
                    _l(
                        "Line %(number)d is longer than %(max)d characters: shorten it or split it in two.",
                        number=number,
                        max=LINE_MAX_LENGTH,
                    )
                )

    return check


class ProcessingSettingsForm(FlaskForm):
    business_name = StringField(
        _l("Business name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the business name.")),
            no_control_characters,
            Length(
                max=NAME_MAX_LENGTH,
                message=_l("Keep the business name to %(max)d characters or fewer."),
            ),
        ],
        render_kw={"autocomplete": "organization"},
    )
    business_address = TextAreaField(
        _l("Business address"),
        filters=[_strip],
        validators=[no_control_characters, _line_limits(ADDRESS_MAX_LINES)],
        render_kw={"rows": 3, "autocomplete": "street-address"},
    )
    privacy_contact = StringField(
        _l("Privacy contact"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(
                max=CONTACT_MAX_LENGTH,
                message=_l("Keep the privacy contact to %(max)d characters or fewer."),
            ),
        ],
    )
    recipients = TextAreaField(
        _l("Recipients"),
        filters=[_strip],
        validators=[no_control_characters, _line_limits(LIST_MAX_LINES)],
        render_kw={"rows": 5},
    )
    transfers = TextAreaField(
        _l("Transfers outside the European Economic Area"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(
                max=TRANSFERS_MAX_LENGTH,
                message=_l("Keep this to %(max)d characters or fewer."),
            ),
        ],
        render_kw={"rows": 3},
    )
    security_measures = TextAreaField(
        _l("Your own security measures"),
        filters=[_strip],
        validators=[no_control_characters, _line_limits(LIST_MAX_LINES)],
        render_kw={"rows": 5},
    )

    @classmethod
    def from_settings(cls, stored: dict):
        """The form filled from the settings (keyed by setting key)."""
        data = {}
        for name, key in SETTINGS.items():
            value = stored.get(key)
            data[name] = "\n".join(value or []) if name in LIST_FIELDS else value or ""
        return cls(data=data)

    def entered(self) -> dict:
        """The settings as entered, keyed by setting key."""
        result = {}
        for name, key in SETTINGS.items():
            value = self[name].data or ""
            if name == "business_address":
                value = "\n".join(_lines(value))
            result[key] = _lines(value) if name in LIST_FIELDS else value
        return result
