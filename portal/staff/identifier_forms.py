"""The form that adds a sensitive identifier to a customer's profile."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import InputRequired

from .. import customers, identifiers
from .profile_forms import IDENTIFIER_KINDS, choices

MESSAGES = {
    "empty": _l("Enter the number."),
    "characters": _l("Use letters and digits only; spaces and dashes are fine."),
    "length": _l("An identifier has 4 to 32 letters and digits."),
    "pesel_length": _l("A PESEL number has 11 digits."),
    "pesel_checksum": _l("This PESEL number does not add up; check the digits."),
    "nip_length": _l("A NIP number has 10 digits."),
    "nip_checksum": _l("This NIP number does not add up; check the digits."),
    "duplicate": _l("This customer already has this number."),
}


class IdentifierForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=choices(IDENTIFIER_KINDS), default=identifiers.KINDS[0])
    value = StringField(
        _l("Number"),
        validators=[InputRequired(MESSAGES["empty"])],
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "identifier")
        super().__init__(*args, **kwargs)
        self.region = customers.default_phone_region()

    def validate_value(self, field) -> None:
        try:
            identifiers.normalize(self.kind.data, field.data, self.region)
        except identifiers.InvalidIdentifier as error:
            if error.reason != "kind":  # the kind field reports its own choice
                raise ValidationError(MESSAGES[error.reason]) from error

    def refuse(self, error: identifiers.InvalidIdentifier) -> None:
        """Put a rule the domain found on saving (a duplicate) beside the number."""
        self.value.errors = [*self.value.errors, MESSAGES[error.reason]]
