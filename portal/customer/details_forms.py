"""Forms of the customer area: correcting one's own details, and giving or withdrawing consent.

The details form reuses the staff customer form's field definitions and checks, so a customer
gets exactly the validation (and messages) staff get, on the subset a customer may correct.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectChoice
from wtforms.validators import AnyOf, InputRequired

from .. import customers
from ..staff.customer_forms import CustomerForm, _countries, _locale, region_name

# What a customer corrects themselves: names, contact details and contact preferences.
# Company, birth date, gender, tags, notes and source stay with the shop's staff.
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "name_order",
    "email",
    "email2",
    "phone",
    "phone2",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "preferred_channel",
    "preferred_language",
)


class CustomerDetailsForm(FlaskForm):
    # The staff form's own field definitions (labels, filters, validators).
    given_name = CustomerForm.given_name
    family_name = CustomerForm.family_name
    name_order = CustomerForm.name_order
    email = CustomerForm.email
    email2 = CustomerForm.email2
    phone = CustomerForm.phone
    phone2 = CustomerForm.phone2
    address_line1 = CustomerForm.address_line1
    address_line2 = CustomerForm.address_line2
    postal_code = CustomerForm.postal_code
    city = CustomerForm.city
    country = CustomerForm.country
    preferred_channel = CustomerForm.preferred_channel
    preferred_language = CustomerForm.preferred_language

    # The staff form's cross-field check: the preferred channel must reach the customer.
    _channel_problem = CustomerForm._channel_problem

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("No country"))] + [
            SelectChoice(code, name) for code, name in _countries(str(_locale()))
        ]
        self.phone.description = _l(
            "Numbers from %(region)s can be typed without the country code.",
            region=region_name(customers.default_phone_region()),
        )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.given_name.data or self.family_name.data):
            self.given_name.errors.append(_l("Enter a given name, a family name, or both."))
            valid = False
        message = self._channel_problem()
        if message:
            self.preferred_channel.errors.append(message)
            valid = False
        return valid

    def changes(self) -> dict:
        return {name: self[name].data for name in EDITABLE_FIELDS}


class ConsentChoiceForm(FlaskForm):
    """One click on a purpose: give (1) or withdraw (0) consent to the wording version shown."""

    granted = HiddenField(validators=[AnyOf(["0", "1"])])
    version = IntegerField(validators=[InputRequired()])
