"""The customer form (new and edit): every message says what is wrong and how to fix it."""

from datetime import date
from functools import cache

from babel import Locale
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import Length, Optional

from .. import customers
from ..form_fields import no_control_characters
from ..i18n import LANGUAGE_NAMES
from ..models import Customer

OLDEST_BIRTH_DATE = date(1900, 1, 1)
NOTE_MAX_LENGTH = 10_000
# Babel territories that are not ISO 3166-1 countries (groupings, reserved and CLDR-only codes).
_NOT_COUNTRIES = {
    "AC",
    "CP",
    "CQ",
    "DG",
    "EA",
    "EU",
    "EZ",
    "IC",
    "QO",
    "TA",
    "UN",
    "XA",
    "XB",
    "ZZ",
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _max(length: int) -> Length:
    return Length(max=length, message=_l("Use at most %(max)d characters."))


def _locale() -> Locale:
    return get_locale() or Locale("en")


def region_name(region: str) -> str:
    """A region's name in the interface language ("Poland", "Польша", "波兰")."""
    return _locale().territories.get(region, region)


@cache
def _countries(locale_name: str) -> tuple[tuple[str, str], ...]:
    territories = Locale.parse(locale_name).territories
    codes = [c for c in territories if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES]
    return tuple(sorted(((c, territories[c]) for c in codes), key=lambda pair: pair[1].casefold()))


def _valid_email(form, field) -> None:
    if field.data:
        try:
            customers.normalize_email(field.data)
        except customers.InvalidEmail as error:
            raise ValidationError(_l("Enter an e-mail address like name@example.com.")) from error


def _valid_phone(form, field) -> None:
    if not field.data:
        return
    region = customers.default_phone_region()
    try:
        customers.normalize_phone(field.data, region)
    except customers.InvalidPhone as error:
        example = customers.example_phone(region)
        if error.reason == "not_a_number":
            message = _l("Enter the phone number in digits, e.g. %(example)s.", example=example)
        elif error.reason == "unknown_country_code":
            message = _l(
                "This country calling code does not exist; check the digits after +, "
                "e.g. %(example)s.",
                example=example,
            )
        elif error.explicit_country_code:
            message = _l(
                "This phone number is not valid for %(region)s; check the country code and "
                "the digits.",
                region=region_name(error.region),
            )
        else:
            message = _l(
                "This phone number is not valid for %(region)s; include the country code, "
                "e.g. %(example)s.",
                region=region_name(region),
                example=example,
            )
        raise ValidationError(message) from error


def _valid_tags(form, field) -> None:
    try:
        tags = customers.parse_tags(field.data or "")
    except customers.InvalidTag as error:
        # Not lazy: the message holds what was typed, and flask-babel's LazyString counts as
        # safe HTML (it has __html__), so Jinja would not escape it. A plain str is escaped.
        raise ValidationError(
            gettext(
                "Each tag can have at most %(max)d characters; shorten “%(tag)s”.",
                max=customers.TAG_MAX_LENGTH,
                tag=error.tag,
            )
        ) from error
    if len(tags) > customers.MAX_TAGS:
        raise ValidationError(_l("Use at most %(max)d tags.", max=customers.MAX_TAGS))


def _plausible_birth_date(form, field) -> None:
    if field.data and field.data > date.today():
        raise ValidationError(_l("A birth date cannot be in the future."))
    if field.data and field.data < OLDEST_BIRTH_DATE:
        raise ValidationError(_l("Check the year: a birth date before 1900 is not plausible."))


CHANNEL_LABELS = {
    "email": _l("E-mail"),
    "phone": _l("Phone call"),
    "sms": _l("SMS"),
    "post": _l("Post"),
    "none": _l("No contact"),
}
SOURCE_LABELS = {
    "in_store": _l("In store"),
    "web_form": _l("Web form"),
    "self_service": _l("Self-service"),
    "import": _l("Import from a file"),
    "vendor_list": _l("List bought from a vendor"),
    "other": _l("Other"),
}


class CustomerForm(FlaskForm):
    given_name = StringField(
        _l("Given name"), filters=[_strip], validators=[no_control_characters, _max(200)]
    )
    family_name = StringField(
        _l("Family name"), filters=[_strip], validators=[no_control_characters, _max(200)]
    )
    name_order = SelectField(
        _l("Name order"),
        choices=[
            SelectChoice("given_first", _l("Given name first (Anna Nowak)")),
            SelectChoice("family_first", _l("Family name first (张伟, Nagy Anna)")),
        ],
        default="given_first",
    )
    company = StringField(
        _l("Company"), filters=[_strip], validators=[no_control_characters, _max(200)]
    )
    email = EmailField(
        _l("E-mail"), filters=[_strip], validators=[no_control_characters, _max(320), _valid_email]
    )
    phone = TelField(
        _l("Phone"), filters=[_strip], validators=[no_control_characters, _max(60), _valid_phone]
    )
    email2 = EmailField(
        _l("Second e-mail (optional)"),
        filters=[_strip],
        validators=[no_control_characters, _max(320), _valid_email],
    )
    phone2 = TelField(
        _l("Second phone (optional)"),
        filters=[_strip],
        validators=[no_control_characters, _max(60), _valid_phone],
    )
    address_line1 = StringField(
        _l("Street and number"), filters=[_strip], validators=[no_control_characters, _max(300)]
    )
    address_line2 = StringField(
        _l("Address line 2 (optional)"),
        filters=[_strip],
        validators=[no_control_characters, _max(300)],
    )
    postal_code = StringField(
        _l("Postal code"), filters=[_strip], validators=[no_control_characters, _max(20)]
    )
    city = StringField(_l("City"), filters=[_strip], validators=[no_control_characters, _max(120)])
    country = SelectField(
        _l("Country"), invalid_choice_message=_l("Choose a country from the list.")
    )
    preferred_channel = SelectField(
        _l("Preferred channel"),
        choices=[SelectChoice(code, CHANNEL_LABELS[code]) for code in Customer.CHANNELS],
        default="email",
    )
    preferred_language = SelectField(
        _l("Preferred language"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in customers.LANGUAGES],
    )
    birth_date = DateField(
        _l("Birth date (optional)"),
        validators=[Optional(), _plausible_birth_date],
        invalid_value_message=_l("Enter the date as year-month-day, e.g. 1985-04-23."),
    )
    gender_choice = SelectField(
        _l("Gender (optional)"),
        choices=[
            SelectChoice("", _l("Not recorded")),
            SelectChoice(customers.GENDER_UNDISCLOSED, _l("Prefer not to say")),
            SelectChoice("self_described", _l("In the customer's own words")),
        ],
        default="",
    )
    gender = StringField(
        _l("Gender in the customer's own words"),
        filters=[_strip],
        validators=[no_control_characters, _max(60)],
    )
    tags = StringField(
        _l("Tags"), filters=[_strip], validators=[no_control_characters, _max(2000), _valid_tags]
    )
    note = TextAreaField(
        _l("Note"), filters=[_strip], validators=[no_control_characters, _max(NOTE_MAX_LENGTH)]
    )
    source = SelectField(
        _l("Source"),
        choices=[SelectChoice(code, SOURCE_LABELS[code]) for code in Customer.SOURCES],
        default="in_store",
    )
    source_detail = StringField(
        _l("Source details (optional)"),
        filters=[_strip],
        validators=[no_control_characters, _max(300)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        region = customers.default_phone_region()
        countries = _countries(str(_locale()))
        self.country.choices = [SelectChoice("", _l("No country"))] + [
            SelectChoice(code, name) for code, name in countries
        ]
        if not self.is_submitted() and not self.country.data and "data" not in kwargs:
            self.country.data = region
        if not self.preferred_language.data:
            self.preferred_language.data = _region_language(region)
        self.phone.description = _l(
            "Numbers from %(region)s can be typed without the country code.",
            region=region_name(region),
        )
        self.tags.description = _l("Separate tags with commas, e.g. vip, wholesale.")

    @classmethod
    def for_customer(cls, values: dict) -> "CustomerForm":
        """The form filled with a customer's current values (customers.form_values)."""
        gender = values.get("gender") or ""
        if gender == customers.GENDER_UNDISCLOSED:
            choice, gender = customers.GENDER_UNDISCLOSED, ""
        else:
            choice = "self_described" if gender else ""
        return cls(data={**values, "gender": gender, "gender_choice": choice})

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.given_name.data or self.family_name.data):
            self.given_name.errors.append(_l("Enter a given name, a family name, or both."))
            valid = False
        if self.gender_choice.data == "self_described" and not self.gender.data:
            self.gender.errors.append(
                _l("Write the gender in the customer's own words, or choose another option.")
            )
            valid = False
        if self.gender_choice.data == customers.GENDER_UNDISCLOSED and self.gender.data:
            self.gender.errors.append(
                _l("The customer prefers not to say: leave this empty, or change the choice above.")
            )
            valid = False
        message = self._channel_problem()
        if message:
            self.preferred_channel.errors.append(message)
            valid = False
        return valid

    def _channel_problem(self):
        """Why the preferred channel cannot reach the customer with what was entered, if so."""
        channel = self.preferred_channel.data
        if channel == "email" and not (self.email.data or self.email2.data):
            return _l(
                "E-mail is the preferred channel: enter an e-mail address, or choose another "
                "channel."
            )
        if channel in ("phone", "sms") and not (self.phone.data or self.phone2.data):
            return _l(
                "Phone or SMS is the preferred channel: enter a phone number, or choose another "
                "channel."
            )
        if channel == "post" and not (self.address_line1.data and self.city.data):
            return _l(
                "Post is the preferred channel: enter the street and the city, or choose another "
                "channel."
            )
        return None

    def customer_data(self) -> dict:
        """The validated input, keyed as customers.create_customer/update_customer expect."""
        data = {name: self[name].data for name in customers.FIELDS}
        if self.gender_choice.data == customers.GENDER_UNDISCLOSED:
            data["gender"] = customers.GENDER_UNDISCLOSED
        return data


def _region_language(region: str) -> str:
    """The customer language most likely in the shop's region (PL → pl), else English."""
    try:
        language = Locale.parse(f"und_{region}").language
    except (ValueError, TypeError):
        return "en"
    return language if language in customers.LANGUAGES else "en"
