"""Owner forms for automations: the rule and its message, pause or resume, run now."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import automations
from ..form_fields import ListField, no_control_characters, within_years
from .audit_forms import NumberField
from .message_forms import MessageContentMixin

KIND_LABELS = {
    "birthday": _l("Birthday greeting"),
    "after_purchase": _l("Thank-you after a purchase"),
    "win_back": _l("Win-back after days without a purchase"),
    "event_reminder": _l("Reminder before an event"),
}
NO_PURPOSE = ""  # an event reminder's "none: a service message"
KEEP_FILTERS = "keep"  # the customers chosen before, when no saved segment matches them


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class DaysField(NumberField):
    """A whole number of days, or nothing: a birthday needs none."""

    def process_formdata(self, valuelist):
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class AutomationForm(MessageContentMixin, FlaskForm):
    """An automation: when it sends, to whom, for which consent purpose, and what it says."""

    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the automation a name.")),
            no_control_characters,
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
    )
    kind = ListField(
        _l("When it sends"),
        choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()],
        default="birthday",
    )
    days = DaysField(
        _l("Days"),
        invalid_value_message=_l("Enter a whole number of days, like 30."),
        validators=[
            Optional(),
            NumberRange(
                0,
                automations.MAX_DAYS,
                message=_l("Enter a number of days from %(min)d to %(max)d."),
            ),
        ],
    )
    event_date = DateField(
        _l("Event date"),
        invalid_value_message=_l("Enter a date, like 2026-03-14."),
        validators=[Optional(), within_years],
    )
    purpose = ListField(_l("Consent purpose"), choices=[], default=NO_PURPOSE)
    segment = ListField(_l("Who it is for"), choices=[], default="")

    def __init__(
        self, *args, purposes, segments, keep_label=None, today, saved_event_date=None, **kw
    ):
        """purposes and segments: (id, title) pairs to choose from; keep_label: offered when
        the automation's customers match no saved segment; today: the business's date, to
        refuse an event that has passed (unless it is the one already saved)."""
        super().__init__(*args, **kw)
        self.purpose.choices = [SelectChoice(str(pid), title) for pid, title in purposes] + [
            SelectChoice(NO_PURPOSE, _l("None: a service message (event reminders only)"))
        ]
        self.segment.choices = [SelectChoice("", _l("Everyone (all customers)"))]
        if keep_label:
            self.segment.choices.append(SelectChoice(KEEP_FILTERS, keep_label))
        self.segment.choices += [SelectChoice(str(sid), name) for sid, name in segments]
        self._today = today
        self._saved_event_date = saved_event_date
        self._mark_languages()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        valid = self.validate_content() and valid
        kind = self.kind.data
        if kind in automations.NEEDS_DAYS and self.days.data is None and not self.days.errors:
            self.days.errors.append(_l("Enter the number of days."))
        elif kind == "win_back" and self.days.data == 0:
            self.days.errors.append(_l("A win-back message waits at least one day."))
        if kind == "event_reminder" and not self.event_date.errors:
            if self.event_date.data is None:
                self.event_date.errors.append(_l("Enter the date of the event."))
            elif self.event_date.data < self._today and (
                self.event_date.data != self._saved_event_date
            ):
                self.event_date.errors.append(_l("The event date has passed: choose a later one."))
        if kind != "event_reminder" and self.purpose.data == NO_PURPOSE:
            self.purpose.errors.append(
                _l(
                    "Choose the consent purpose this message is for. Only an event reminder "
                    "may go without one."
                )
            )
        return valid and not (self.days.errors or self.event_date.errors or self.purpose.errors)

    @property
    def purpose_id(self) -> int | None:
        return int(self.purpose.data) if self.purpose.data else None


class ActiveForm(FlaskForm):
    """Pause (0) or resume (1) an automation."""

    active = ListField(choices=[SelectChoice("0", "0"), SelectChoice("1", "1")])


class RunForm(FlaskForm):
    """Run an automation now (the CSRF token only)."""
