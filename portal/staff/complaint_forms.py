"""Forms of complaints: open one from the profile, change its status, assign it, reply or note,
record the resolution; and the labels of the codes complaints store."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..complaints import CATEGORIES, CHANNELS, REDRESS
from ..form_fields import ListField, no_control_characters
from ..models import Location, StaffAccount
from .profile_forms import COMPLAINT_STATUSES, AmountField, _strip, choices

COMPLAINT_CHANNELS = {
    "in_store": _l("In store"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "web_form": _l("Web form"),
}
COMPLAINT_CATEGORIES = {
    "product_quality": _l("Product quality"),
    "delivery": _l("Delivery"),
    "service": _l("Service"),
    "billing": _l("Billing"),
    "other": _l("Other"),
}
SEVERITY_CHOICES = {
    "low": _l("Low"),
    "medium": _l("Medium"),
    "high": _l("High"),
    "critical": _l("Critical"),
}
REDRESS_LABELS = {
    "refund": _l("Refund"),
    "replacement": _l("Replacement"),
    "apology": _l("Apology"),
    "none": _l("None"),
}
# The button that moves a complaint to each status (reopening reads differently).
STATUS_ACTIONS = {
    "in_progress": _l("Start work"),
    "waiting_for_customer": _l("Wait for customer"),
    "resolved": _l("Mark resolved"),
    "closed": _l("Close"),
}
REOPEN = _l("Reopen")
MAX_BODY = 5000

assert set(COMPLAINT_CHANNELS) == set(CHANNELS)
assert set(COMPLAINT_CATEGORIES) == set(CATEGORIES)
assert set(REDRESS_LABELS) == set(REDRESS)


def status_action(from_status: str, to_status: str) -> str:
    if to_status == "in_progress" and from_status in ("resolved", "closed"):
        return REOPEN
    return STATUS_ACTIONS[to_status]


def subject_field() -> StringField:
    """A complaint's subject, the same whether staff or the customer write it."""
    return StringField(
        _l("Subject"),
        filters=[_strip],
        validators=[
            no_control_characters,
            DataRequired(_l("Enter what the complaint is about.")),
            Length(max=300, message=_l("Use at most %(max)d characters.")),
        ],
    )


class ComplaintForm(FlaskForm):
    """Open a complaint from the customer's profile."""

    subject = subject_field()
    description = TextAreaField(
        _l("What happened"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(max=MAX_BODY, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"rows": 3},
    )
    channel = SelectField(
        _l("Received by"), choices=choices(COMPLAINT_CHANNELS), default="in_store"
    )
    category = SelectField(_l("Category"), choices=choices(COMPLAINT_CATEGORIES), default="other")
    severity = SelectField(_l("Severity"), choices=choices(SEVERITY_CHOICES), default="medium")
    location = SelectField(_l("Shop location"), validate_choice=True)

    def __init__(self, *args, **kwargs):
        # Prefixed: the profile holds several forms.
        super().__init__(*args, prefix="complaint", **kwargs)
        locations = Location.select(Location.id, Location.name).where(Location.active)
        places = [SelectChoice(str(p.id), p.name) for p in locations.order_by(Location.name)]
        if places:
            self.location.choices = [SelectChoice("", _l("No location")), *places]
        else:
            del self.location  # a business without locations is not asked for one

    @property
    def location_id(self) -> int | None:
        if "location" in self and self.location.data:
            return int(self.location.data)
        return None


class StatusForm(FlaskForm):
    """The status the staff member's button asked for; the lifecycle decides if it may."""

    to_status = ListField(
        _l("New status"),
        choices=choices(COMPLAINT_STATUSES),
        validators=[InputRequired(_l("Choose the new status."))],
    )


class AssignForm(FlaskForm):
    assignee = ListField(_l("Assigned to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = StaffAccount.select(StaffAccount.id, StaffAccount.name).where(StaffAccount.active)
        self.assignee.choices = [
            SelectChoice("", _l("Nobody")),
            *(SelectChoice(str(s.id), s.name) for s in staff.order_by(StaffAccount.name)),
        ]

    @property
    def assignee_id(self) -> int | None:
        return int(self.assignee.data) if self.assignee.data else None


class MessageForm(FlaskForm):
    """A reply to the customer or an internal note: the endpoint decides which."""

    body = TextAreaField(
        _l("Message"),
        filters=[_strip],
        validators=[
            no_control_characters,
            DataRequired(_l("Write the message first.")),
            Length(max=MAX_BODY, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"rows": 3},
    )

    def __init__(self, *args, field_id: str = "body", label=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Reply and note forms share the field name on one page: their ids must differ.
        self.body.id = field_id
        if label is not None:
            self.body.label.text = label
        self.body.label.field_id = field_id


class ResolutionForm(FlaskForm):
    resolution = TextAreaField(
        _l("What was done"),
        filters=[_strip],
        validators=[
            no_control_characters,
            DataRequired(_l("Describe what was done for the customer.")),
            Length(max=MAX_BODY, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"rows": 3},
    )
    redress = SelectField(
        _l("Redress"),
        choices=choices(REDRESS_LABELS),
        default="none",
        validators=[InputRequired(_l("Choose the redress."))],
    )
    redress_value = AmountField(
        _l("Value of the redress"),
        places=2,
        places_message=_l("Use at most 2 decimal places."),
        invalid_value_message=_l("Enter the value as a number, like 25 or 12.50."),
        validators=[
            Optional(),
            NumberRange(min=Decimal("0"), message=_l("Enter a value of 0 or more.")),
            NumberRange(max=Decimal("999999999.99"), message=_l("Enter a smaller value.")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="resolution", **kwargs)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        needs_value = self.redress.data in ("refund", "replacement")
        if needs_value and self.redress_value.data is None and not self.redress_value.errors:
            # A refund or replacement has a value; checked here because an empty optional
            # field skips its own validators.
            self.redress_value.errors = [_l("Enter what the refund or replacement was worth.")]
            return False
        return valid
