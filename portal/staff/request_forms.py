"""Forms of the profile's privacy-requests section: record a request, close one."""

from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, ValidationError
from wtforms.validators import InputRequired

from ..form_fields import within_years
from ..models import utcnow
from .profile_forms import choices

REQUEST_KINDS = {
    "access": _l("Access to their data"),
    "correction": _l("Correction of their data"),
    "erasure": _l("Erasure of their data"),
}
REQUEST_STATUSES = {"open": _l("Open"), "completed": _l("Completed"), "refused": _l("Refused")}
CLOSING = {"completed": _l("Completed"), "refused": _l("Refused")}


def local_today():
    """Today in the business's time zone."""
    return to_user_timezone(utcnow()).date()


def not_after_today(form, field):
    if field.data and field.data > local_today():
        raise ValidationError(_l("This date is in the future. Enter the day the request came in."))


class PrivacyRequestForm(FlaskForm):
    kind = SelectField(
        _l("Kind of request"),
        choices=choices(REQUEST_KINDS),
        default="access",
        validators=[InputRequired(_l("Choose what the customer asked for."))],
    )
    received_on = DateField(
        _l("Date received"),
        default=local_today,
        invalid_value_message=_l("Enter a date, like 2026-03-14."),
        validators=[
            InputRequired(_l("Enter the day the request came in.")),
            within_years,
            not_after_today,
        ],
    )

    def __init__(self, *args, **kwargs):
        # Prefixed names and ids: the profile holds several forms.
        super().__init__(*args, prefix="request", **kwargs)

    @property
    def received_at_utc(self) -> datetime:
        """The start of the day received, in the business's time zone: the strictest deadline."""
        return to_utc(datetime.combine(self.received_on.data, time.min))


class CloseRequestForm(FlaskForm):
    """Completed or refused, sent by the button the staff member pressed."""

    status = SelectField(
        _l("Outcome"),
        choices=choices(CLOSING),
        validators=[InputRequired(_l("Choose whether the request was completed or refused."))],
    )
