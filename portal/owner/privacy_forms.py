"""Forms of the privacy desk: a suspected breach, when the authority was told, the periods."""

import ipaddress

from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..form_fields import no_control_characters, within_years
from ..models import StaffAccount
from ..staff.profile_forms import local_now, not_in_future

# datetime-local inputs send 2026-03-14T09:30; the first format is also how it renders.
FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
INVALID_WHEN = _l("Enter a date and time, like 2026-03-14 09:30.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _when(label, *, required_message, future_allowed=False, default=None):
    validators = [InputRequired(required_message), within_years]
    if not future_allowed:
        validators.append(not_in_future)
    return DateTimeLocalField(
        label,
        format=FORMATS,
        default=default,
        invalid_value_message=INVALID_WHEN,
        validators=validators,
    )


class BreachForm(FlaskForm):
    discovered_at = _when(
        _l("Discovered"),
        required_message=_l("Enter when the breach was discovered."),
        default=local_now,
    )
    description = TextAreaField(
        _l("What happened"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Describe what happened.")),
            no_control_characters,
            Length(max=4000, message=_l("Keep the description to %(max)d characters or fewer.")),
        ],
        render_kw={"rows": 4},
    )
    staff_account = SelectField(_l("Staff account"), validate_choice=True)
    ip_address = StringField(
        _l("IP address"),
        filters=[_strip],
        validators=[Length(max=45, message=_l("Use at most %(max)d characters."))],
        render_kw={"spellcheck": "false", "autocapitalize": "off", "inputmode": "text"},
    )
    window_start = _when(
        _l("From"), required_message=_l("Enter when the suspect activity may have started.")
    )
    window_end = _when(
        _l("To"),
        required_message=_l("Enter when the suspect activity ended (or now)."),
        future_allowed=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="breach", **kwargs)
        accounts = StaffAccount.select(StaffAccount.id, StaffAccount.name, StaffAccount.email)
        self.staff_account.choices = [
            SelectChoice("", _l("No account: an address only")),
            *(
                SelectChoice(str(account.id), f"{account.name} ({account.email})")
                for account in accounts.order_by(StaffAccount.name, StaffAccount.id)
            ),
        ]

    def validate_ip_address(self, field):
        if not field.data:
            return
        try:
            # Stored as the audit trail stores addresses, so the two compare equal.
            field.data = str(ipaddress.ip_address(field.data))
        except ValueError as exc:
            raise ValidationError(
                _l("Enter an IP address like 203.0.113.7 or 2001:db8::1.")
            ) from exc

    def validate_window_end(self, field):
        start = self.window_start.data
        if start and field.data and field.data < start:
            raise ValidationError(_l("The end of the time window must not be before its start."))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.staff_account.data and not self.ip_address.data and not self.ip_address.errors:
            self.staff_account.errors = [
                *self.staff_account.errors,
                _l("Choose the staff account, or enter the IP address below."),
            ]
            return False
        return valid

    @property
    def staff_account_id(self) -> int | None:
        return int(self.staff_account.data) if self.staff_account.data else None

    def utc(self, name: str):
        return to_utc(getattr(self, name).data)


class AuthorityNotifiedForm(FlaskForm):
    notified_at = _when(
        _l("Authority notified"),
        required_message=_l("Enter when the authority was notified."),
        default=local_now,
    )

    def __init__(self, *args, breach=None, **kwargs):
        super().__init__(*args, prefix=f"notified-{breach.id}" if breach else "notified", **kwargs)
        self.breach = breach

    def validate_notified_at(self, field):
        if self.breach and field.data and to_utc(field.data) < self.breach.discovered_at:
            raise ValidationError(
                _l("The authority cannot have been told before the breach was discovered.")
            )

    @property
    def notified_at_utc(self):
        return to_utc(self.notified_at.data)


def _period(label, low: int, high: int):
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Enter a whole number.")),
            NumberRange(min=low, max=high, message=_l("Enter a number from %(min)s to %(max)s.")),
        ],
        render_kw={"inputmode": "numeric"},
    )


class PrivacyPeriodsForm(FlaskForm):
    """Retention periods and the clocks of customers' requests (SPEC 4 settings)."""

    retention_lead_months = _period(_l("Leads without consent: months after last activity"), 1, 120)
    retention_customer_years = _period(_l("Customers: years after last purchase"), 1, 30)
    request_deadline_days = _period(
        _l("Days to answer an access, correction or erasure request"), 1, 90
    )
    erasure_grace_days = _period(
        _l("Days between a confirmed erasure request and the erasure"), 0, 90
    )
