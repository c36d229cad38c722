from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..customers import TAG_MAX_LENGTH
from ..form_fields import no_control_characters, plain_amount


class FilterForm(FlaskForm):
    """Customer list filters, read from the query string (a GET form changes nothing)."""

    class Meta:
        csrf = False

    kind = SelectField(
        _l("Type"),
        choices=[
            SelectChoice("", _l("Everyone")),
            SelectChoice("customer", _l("Customers")),
            SelectChoice("lead", _l("Leads")),
            SelectChoice("at_risk", _l("At risk of not coming back")),
        ],
        default="",
    )
    tag = StringField(
        _l("Tag"),
        validators=[
            Optional(),
            no_control_characters,
            Length(max=60, message=_l("Use at most %(max)d characters.")),
        ],
    )
    tier = SelectField(
        _l("Tier"),
        choices=[SelectChoice("", _l("Any tier"))] + [SelectChoice(t, t) for t in "ABC"],
        default="",
    )
    city = StringField(
        _l("City"),
        validators=[
            Optional(),
            no_control_characters,
            Length(max=120, message=_l("Use at most %(max)d characters.")),
        ],
    )
    consent_purpose = SelectField(_l("Consent for"), choices=[], default="", validate_choice=True)
    consent_state = SelectField(
        _l("Consent state"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("granted", _l("Given now")),
            SelectChoice("not_granted", _l("Not given now")),
            SelectChoice("never_asked", _l("Never asked")),
        ],
        default="",
    )
    purchased_since = DateField(
        _l("Last purchase on or after"), validators=[Optional()], format="%Y-%m-%d"
    )
    purchased_before = DateField(
        _l("Last purchase before"), validators=[Optional()], format="%Y-%m-%d"
    )
    min_spend = DecimalField(
        _l("Spent at least"),
        validators=[
            Optional(),
            plain_amount,
            NumberRange(min=0, message=_l("Enter an amount of 0 or more.")),
        ],
    )
    max_spend = DecimalField(
        _l("Spent at most"),
        validators=[
            Optional(),
            plain_amount,
            NumberRange(min=0, message=_l("Enter an amount of 0 or more.")),
        ],
    )
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("name", _l("Name")),
            SelectChoice("newest", _l("Newest first")),
            SelectChoice("spend", _l("Highest spend")),
            SelectChoice("activity", _l("Recent activity")),
        ],
        default="name",
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if (
            self.min_spend.data is not None
            and self.max_spend.data is not None
            and not (self.min_spend.errors or self.max_spend.errors)  # NaN does not compare
            and self.min_spend.data > self.max_spend.data
        ):
            self.max_spend.errors.append(_l("Must not be less than “Spent at least”."))
            valid = False
        if self.consent_state.data and not self.consent_purpose.data:
            self.consent_purpose.errors.append(_l("Choose which consent to filter by."))
            valid = False
        return valid


def _fits_lower_cased(form, field):
    # Tags are stored lower-cased, and lower case can be longer ("İ" becomes "i̇").
    if not field.errors and len(field.data.strip().lower()) > TAG_MAX_LENGTH:
        raise ValidationError(_l("Use at most %(max)d characters.", max=TAG_MAX_LENGTH))


class BulkTagForm(FlaskForm):
    tag = StringField(
        _l("Tag to add"),
        validators=[
            DataRequired(_l("Enter a tag.")),
            no_control_characters,
            Length(max=TAG_MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
            _fits_lower_cased,
        ],
    )


class SegmentForm(FlaskForm):
    name = StringField(
        _l("Segment name"),
        validators=[
            DataRequired(_l("Give the segment a name.")),
            no_control_characters,
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
    )
    filters = HiddenField()
