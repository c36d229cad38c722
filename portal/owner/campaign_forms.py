"""Campaign forms: the campaign itself (name, purpose, whom, message), when to send it, and the
sending speed."""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from .. import consent, outbox
from ..business_hours import business_zone
from ..customer_list import Filters
from ..form_fields import no_control_characters, record_id, within_years
from ..i18n import select_language
from ..models import Campaign, Segment, utcnow
from .export_forms import filters_from
from .message_forms import MessageContentMixin

NAME_MAX_LENGTH = 200
EVERYONE = "all"
LIST_FILTERS = "list"  # the customer list's filters, carried in the hidden `filters` field
# datetime-local inputs send 2026-03-14T09:30; the first format is also how it renders.
FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CampaignForm(MessageContentMixin, FlaskForm):
    """A draft: its name, the consent purpose, whom it is for, and the message per language."""

    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the campaign a name, like “Spring offers”.")),
            no_control_characters,
            Length(max=NAME_MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
    )
    purpose = SelectField(_l("Consent purpose"), choices=[], validate_choice=False)
    customers = SelectField(_l("Customers"), choices=[], validate_choice=False, default=EVERYONE)
    filters = HiddenField()  # the list's filters as JSON, when the campaign starts from the list

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._mark_languages()
        self.purpose.choices = [SelectChoice("", _l("Choose a purpose…"))] + [
            SelectChoice(str(pid), title)
            for pid, title in consent.titles(select_language()).items()
        ]
        self.customers.choices = [SelectChoice(EVERYONE, _l("Everyone"))]
        if self.list_filters is not None:
            self.customers.choices.append(
                SelectChoice(LIST_FILTERS, _l("The customers matching the list's filters"))
            )
        self.customers.choices += [
            SelectChoice(str(segment.id), segment.name)
            for segment in Segment.select(Segment.id, Segment.name).order_by(Segment.name)
        ]

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> "CampaignForm":
        """The form filled from a saved campaign, for editing."""
        kept = campaign.segment_id and Segment.get_or_none(Segment.id == campaign.segment_id)
        form = cls(
            formdata=None,
            name=campaign.name,
            purpose=str(campaign.purpose_id),
            # A deleted segment's filters stay with the campaign, as list filters.
            customers=str(campaign.segment_id) if kept else _customers_of(campaign.filters),
            filters="" if kept else campaign.filters,
        )
        form.fill_content(campaign.content)
        return form

    @property
    def list_filters(self) -> Filters | None:
        """The list's filters from the hidden field, when there are any the list could set."""
        text = self.filters.data or ""
        return filters_from(text) if text.strip() else None

    def validate_purpose(self, field):
        if not field.data:
            raise ValidationError(_l("Choose the consent purpose this message is sent for."))
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose one of the purposes listed."))

    def validate_customers(self, field):
        if (field.data or "") not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose everyone or one of the segments listed."))
        segment = self.chosen_segment
        if segment is not None and filters_from(segment.filters) is None:
            # Never fall back to everyone: the owner meant these customers only.
            raise ValidationError(
                _l("This segment's filters cannot be read. Save it again from the customer list.")
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.validate_content() and valid

    @property
    def purpose_id(self) -> int:
        return int(self.purpose.data)

    @property
    def chosen_segment(self) -> Segment | None:
        segment_id = record_id(self.customers.data)
        return Segment.get_or_none(Segment.id == segment_id) if segment_id else None

    @property
    def chosen_filters(self) -> Filters:
        """Whom it is for: a segment's filters, the list's, or no filter (everyone)."""
        if self.customers.data == LIST_FILTERS:
            return self.list_filters
        segment = self.chosen_segment
        return filters_from(segment.filters) if segment is not None else Filters()


def _customers_of(filters_json: str) -> str:
    return LIST_FILTERS if filters_from(filters_json or "{}") not in (None, Filters()) else EVERYONE


class ScheduleForm(FlaskForm):
    """When to send: a moment in the business's time zone, later than now."""

    send_at = DateTimeLocalField(
        _l("Send at"),
        format=FORMATS,
        invalid_value_message=_l("Enter a date and time, like 2026-03-14 09:30."),
        validators=[InputRequired(_l("Enter the date and time to send at.")), within_years],
    )

    def validate_send_at(self, field):
        if field.data is not None and self.send_at_utc <= utcnow():
            raise ValidationError(_l("This time has passed. Choose a time later than now."))

    @property
    def send_at_utc(self) -> datetime:
        """The entered local time as naive UTC, as the database stores it."""
        local = self.send_at.data.replace(tzinfo=business_zone())
        return local.astimezone(UTC).replace(tzinfo=None)


class SendingSpeedForm(FlaskForm):
    per_minute = IntegerField(
        _l("Messages per minute"),
        validators=[
            InputRequired(_l("Enter a whole number.")),
            NumberRange(
                min=1,
                max=outbox.MAX_PER_MINUTE,
                message=_l("Enter a number from %(min)s to %(max)s."),
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )
