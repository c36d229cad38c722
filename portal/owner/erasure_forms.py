"""Forms of the erasure and retention pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..erasure import PARTS
from ..form_fields import no_control_characters

PART_LABELS = {
    "purchases_detail": _l(
        "Invoice details: the buyer's name, company, billing address and tax number"
    ),
    "complaints": _l("Complaint texts and replies"),
    "interactions": _l("Interaction notes (calls, e-mails, visits)"),
    "consent_evidence": _l("Consent evidence notes"),
}


class HoldForm(FlaskForm):
    """The owner keeps parts of a person's data for a lawful reason."""

    parts = SelectMultipleField(
        _l("Parts to keep"),
        choices=[SelectChoice(part, PART_LABELS[part]) for part in PARTS],
        validators=[DataRequired(_l("Choose at least one part to keep."))],
    )
    reason = TextAreaField(
        _l("Lawful reason"),
        validators=[
            DataRequired(_l("Write the lawful reason for keeping these parts.")),
            no_control_characters,
            Length(max=500, message=_l("Use at most %(max)d characters.")),
        ],
    )


class ConfirmForm(FlaskForm):
    """A confirmation step: only the CSRF token."""
