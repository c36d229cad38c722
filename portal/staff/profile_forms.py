"""Forms of the customer profile: record a purchase (with lines) and an interaction."""

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale, to_user_timezone, to_utc
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)
from wtforms.widgets import TextInput

from ..form_fields import MAX_AMOUNT, no_control_characters, within_years
from ..models import Location, utcnow

# Labels of stored codes, for the forms and the profile page.
PURCHASE_CHANNELS = {"store": _l("In store"), "online": _l("Online"), "phone": _l("By phone")}
INTERACTION_CHANNELS = {
    "call": _l("Call"),
    "email": _l("E-mail"),
    "chat": _l("Chat"),
    "visit": _l("Visit"),
    "note": _l("Note"),
}
DIRECTIONS = {
    "in": _l("From the customer"),
    "out": _l("To the customer"),
}
DIRECTIONS_SHORT = {"in": _l("Incoming"), "out": _l("Outgoing")}
# How the profile names other stored codes.
CUSTOMER_CHANNELS = {
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "sms": _l("SMS"),
    "post": _l("Post"),
    "none": _l("No contact"),
}
SOURCES = {
    "in_store": _l("In store"),
    "web_form": _l("Web form"),
    "self_service": _l("Self-service"),
    "import": _l("Import"),
    "vendor_list": _l("List from a vendor"),
    "other": _l("Other"),
}
IDENTIFIER_KINDS = {"national_id": _l("National ID"), "tax_number": _l("Tax number")}
COMPLAINT_STATUSES = {
    "new": _l("New"),
    "in_progress": _l("In progress"),
    "waiting_for_customer": _l("Waiting for customer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
SEVERITIES = {
    "low": _l("Low severity"),
    "medium": _l("Medium severity"),
    "high": _l("High severity"),
    "critical": _l("Critical severity"),
}
LABELS = SimpleNamespace(
    purchase_channels=PURCHASE_CHANNELS,
    interaction_channels=INTERACTION_CHANNELS,
    directions=DIRECTIONS_SHORT,
    customer_channels=CUSTOMER_CHANNELS,
    sources=SOURCES,
    identifier_kinds=IDENTIFIER_KINDS,
    complaint_statuses=COMPLAINT_STATUSES,
    severities=SEVERITIES,
)

MAX_LINES = 30
MAX_QUANTITY = Decimal("99999")
MAX_UNIT_PRICE = Decimal("999999999.99")
# A clock a few minutes ahead of the server's should not make "now" count as the future.
CLOCK_SKEW = timedelta(minutes=5)
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_GROUPED_NUMBER = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")
_SPACES = re.compile(r"[\s\u00a0\u202f']")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def local_now():
    """Now in the business's time zone, to the minute, as a datetime-local field shows it."""
    return to_user_timezone(utcnow()).replace(tzinfo=None, second=0, microsecond=0)


def choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class AmountField(DecimalField):
    """A decimal typed the way the page's language writes it: 12.50, 12,50, 1 250,5 or 1,250.5.

    Spaces group thousands everywhere; a comma is the decimal sign where the language says so
    (Polish, Russian) and only groups thousands otherwise (English, Chinese), where 12,5 is
    refused rather than read as 125. A full stop is always a decimal sign. More decimal
    places than `places` is refused, not rounded.
    """

    # A text box, not type=number: browsers differ in what a number box accepts and send
    # nothing at all for what they cannot parse; here every entry gets a clear answer.
    widget = TextInput()

    def __init__(self, label=None, validators=None, *, places: int, places_message, **kwargs):
        super().__init__(label, validators, places=places, **kwargs)
        self.places_message = places_message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        text = _SPACES.sub("", valuelist[0] or "")
        if not text:
            return
        if get_decimal_symbol(get_locale()) == ",":
            text = text.replace(",", ".")
        elif "," in text:
            # Here a comma only groups thousands: 1,250.50 is fine, 12,5 is a mistake to show.
            if not _GROUPED_NUMBER.fullmatch(text):
                raise ValueError(self.invalid_value_message)
            text = text.replace(",", "")
        if not _PLAIN_NUMBER.fullmatch(text):
            raise ValueError(self.invalid_value_message)
        try:
            value = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
            raise ValueError(self.invalid_value_message) from exc
        if value.as_tuple().exponent < -self.places:
            raise ValueError(self.places_message)
        self.data = value

    def pre_validate(self, form):
        # A value that is not a number gets that one message, not range messages as well.
        if self.process_errors:
            raise StopValidation()


def not_in_future(form, field):
    if field.data and to_utc(field.data) > utcnow() + CLOCK_SKEW:
        raise ValidationError(_l("This date is in the future. Enter when it happened."))


def _when_field(label):
    return DateTimeLocalField(
        label,
        # datetime-local inputs send 2026-03-14T09:30; the first format is also how it renders.
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        default=local_now,
        invalid_value_message=_l("Enter a date and time, like 2026-03-14 09:30."),
        validators=[InputRequired(_l("Enter the date and time.")), within_years, not_in_future],
    )


# Lines may be left empty, so their boxes must not announce themselves as required.
OPTIONAL_BOX = {"required": False}


class LineForm(Form):
    """One line of a purchase. A line left entirely empty is ignored."""

    product = StringField(
        _l("Product"),
        filters=[_strip],
        validators=[
            no_control_characters,
            DataRequired(_l("Enter the product for this line.")),
            Length(max=300, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw=OPTIONAL_BOX,
    )
    quantity = AmountField(
        _l("Quantity"),
        places=3,
        places_message=_l("Use at most 3 decimal places for the quantity."),
        invalid_value_message=_l("Enter the quantity as a number, like 2 or 1.5."),
        validators=[
            Optional(),
            NumberRange(min=Decimal("0.001"), message=_l("Enter a quantity greater than 0.")),
            NumberRange(max=MAX_QUANTITY, message=_l("Enter a quantity of at most 99,999.")),
        ],
        render_kw={"inputmode": "decimal", "placeholder": "1"},
    )
    unit_price = AmountField(
        _l("Unit price"),
        places=2,
        places_message=_l("Use at most 2 decimal places for the price."),
        invalid_value_message=_l("Enter the price as a number, like 12.50."),
        validators=[
            InputRequired(_l("Enter the unit price (0 for a free item).")),
            NumberRange(min=0, message=_l("The unit price cannot be negative.")),
            NumberRange(max=MAX_UNIT_PRICE, message=_l("Enter a unit price below one billion.")),
        ],
        render_kw={**OPTIONAL_BOX, "inputmode": "decimal"},
    )

    @property
    def is_blank(self) -> bool:
        return not any((raw or "").strip() for f in self for raw in (f.raw_data or []))

    def validate(self, extra_validators=None):
        # An empty line is one the staff member did not use, not an error.
        if self.is_blank:
            return True
        return super().validate(extra_validators)

    @property
    def line(self) -> tuple[str, Decimal, Decimal]:
        """(product, quantity, unit price); an empty quantity means one."""
        return self.product.data, self.quantity.data or Decimal("1"), self.unit_price.data


class PurchaseForm(FlaskForm):
    purchased_at = _when_field(_l("Date and time"))
    channel = SelectField(_l("Channel"), choices=choices(PURCHASE_CHANNELS), default="store")
    location = SelectField(_l("Shop location"), validate_choice=True)
    receipt_number = StringField(
        _l("Receipt number"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(max=60, message=_l("Use at most %(max)d characters.")),
        ],
    )
    lines = FieldList(FormField(LineForm), min_entries=2, max_entries=MAX_LINES)

    def __init__(self, *args, **kwargs):
        # Prefixed names and ids: the page holds this form and the interaction form.
        super().__init__(*args, prefix="purchase", **kwargs)
        locations = Location.select(Location.id, Location.name).where(Location.active)
        places = [
            SelectChoice(str(place.id), place.name) for place in locations.order_by(Location.name)
        ]
        if places:
            self.location.choices = [SelectChoice("", _l("No location")), *places]
        else:
            del self.location  # a business without locations is not asked for one

    @property
    def has_locations(self) -> bool:
        return "location" in self

    @property
    def filled_lines(self) -> list[LineForm]:
        return [entry.form for entry in self.lines if not entry.form.is_blank]

    @property
    def location_id(self) -> int | None:
        return int(self.location.data) if self.has_locations and self.location.data else None

    @property
    def purchased_at_utc(self):
        return to_utc(self.purchased_at.data)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.filled_lines:
            self.form_errors.append(_l("Enter at least one line with a product and a price."))
            return False
        lines = [entry.line for entry in self.filled_lines] if valid else []
        if sum((quantity * price for _, quantity, price in lines), Decimal(0)) > MAX_AMOUNT:
            # Each line may be in range while the total is more than a money column holds.
            self.form_errors.append(
                _l(
                    "This purchase adds up to more than can be recorded; check the quantities "
                    "and prices."
                )
            )
            return False
        return valid

    def add_line(self) -> bool:
        """Add an empty line for the staff member to fill (up to MAX_LINES)."""
        if len(self.lines) >= MAX_LINES:
            return False
        self.lines.append_entry()
        _focus(self.lines[-1].product)
        return True


class InteractionForm(FlaskForm):
    occurred_at = _when_field(_l("When"))
    direction = SelectField(_l("Direction"), choices=choices(DIRECTIONS), default="in")
    channel = SelectField(_l("Channel"), choices=choices(INTERACTION_CHANNELS), default="call")
    summary = TextAreaField(
        _l("Summary"),
        filters=[_strip],
        validators=[
            no_control_characters,
            DataRequired(_l("Write what was said or done.")),
            Length(max=2000, message=_l("Keep the summary to %(max)d characters or fewer.")),
        ],
        render_kw={"rows": 3},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="interaction", **kwargs)

    @property
    def occurred_at_utc(self):
        return to_utc(self.occurred_at.data)


def focus_first_error(form) -> None:
    """Put the cursor in the first field that needs attention when the form comes back."""
    for field in _leaf_fields(form):
        if field.errors:
            _focus(field)
            return


def _focus(field) -> None:
    # htmx focuses an [autofocus] element it swaps in; browsers do the same on page load.
    field.render_kw = {**(field.render_kw or {}), "autofocus": True}


def _leaf_fields(form):
    for field in form:
        if isinstance(field, FieldList):
            for entry in field:
                yield from _leaf_fields(entry.form)
        else:
            yield field
