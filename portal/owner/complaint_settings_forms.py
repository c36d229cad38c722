"""The complaint clocks' settings: opening hours, holidays and response times per severity."""

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired

from ..business_hours import SEVERITIES, parse_time

WEEKDAYS = range(7)  # Monday=0, as Python and the opening_hours setting count them
MAX_HOURS = Decimal(5000)  # about two years of working days: anything longer is a typo
TIME_ATTRS = {"type": "time", "placeholder": "09:00", "inputmode": "numeric"}
HOURS_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}
SEVERITY_LABELS = {
    "low": _l("Low"),
    "medium": _l("Medium"),
    "high": _l("High"),
    "critical": _l("Critical"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _time_of_day(form, field):
    if not field.data:
        return
    try:
        parse_time(field.data)
    except ValueError as exc:
        raise ValidationError(_l("Enter a time like 09:00 or 17:30.")) from exc


def _hours(form, field):
    try:
        value = Decimal(field.data.replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationError(_l("Enter a number of hours, like 8 or 1.5.")) from exc
    if not value.is_finite() or value <= 0 or value > MAX_HOURS:
        raise ValidationError(
            _l("Enter a number of hours above 0 and up to %(max)s.", max=int(MAX_HOURS))
        )


class ComplaintSettingsForm(FlaskForm):
    holidays = TextAreaField(
        _l("Holidays"),
        filters=[_strip],
        render_kw={"rows": 6, "placeholder": "2026-12-25", "spellcheck": "false"},
    )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        days_valid = all([self._check_day(weekday) for weekday in WEEKDAYS])
        if days_valid and not any(self.day_hours(weekday) for weekday in WEEKDAYS):
            # Without a single open day no complaint would ever fall due.
            self.opens_0.errors.append(_l("Open on at least one day of the week."))
            days_valid = False
        severities_valid = all([self._check_severity(severity) for severity in SEVERITIES])
        return valid and days_valid and severities_valid

    def validate_holidays(self, field):
        for number, line in enumerate(field.data.splitlines(), start=1):
            if line.strip() and not _is_date(line.strip()):
                raise ValidationError(
                    _l(
                        "Line %(number)d is not a date: write one date per line, like 2026-12-25.",
                        number=number,
                    )
                )

    # --- Reading the form into settings and back ------------------------------------------

    @classmethod
    def from_settings(cls, opening_hours: dict, holidays: list, response_hours: dict):
        data = {"holidays": "\n".join(holidays)}
        for weekday in WEEKDAYS:
            hours = opening_hours.get(str(weekday)) or ["", ""]
            data[f"opens_{weekday}"], data[f"closes_{weekday}"] = hours
        for severity in SEVERITIES:
            first, resolution = response_hours[severity]
            data[f"first_response_{severity}"] = _number_text(first)
            data[f"resolution_{severity}"] = _number_text(resolution)
        return cls(data=data)

    def day_hours(self, weekday: int) -> list[str] | None:
        """["09:00", "18:00"] as entered (written as HH:MM), or None for a closed day."""
        opens, closes = self[f"opens_{weekday}"].data, self[f"closes_{weekday}"].data
        if not (opens and closes):
            return None
        return [parse_time(opens).strftime("%H:%M"), parse_time(closes).strftime("%H:%M")]

    @property
    def opening_hours(self) -> dict:
        return {str(weekday): self.day_hours(weekday) for weekday in WEEKDAYS}

    @property
    def holiday_dates(self) -> list[str]:
        lines = (line.strip() for line in self.holidays.data.splitlines())
        days = {date.fromisoformat(line) for line in lines if line}
        return [day.isoformat() for day in sorted(days)]

    @property
    def response_hours(self) -> dict:
        return {
            severity: [
                _number(self[f"first_response_{severity}"].data),
                _number(self[f"resolution_{severity}"].data),
            ]
            for severity in SEVERITIES
        }

    # --- Rules across fields ------------------------------------------------------------

    def _check_day(self, weekday: int) -> bool:
        opens, closes = self[f"opens_{weekday}"], self[f"closes_{weekday}"]
        if opens.errors or closes.errors:
            return False
        if bool(opens.data) != bool(closes.data):
            empty = closes if opens.data else opens
            empty.errors.append(
                _l("Enter both times, or leave both empty when the business is closed that day.")
            )
            return False
        if opens.data and parse_time(opens.data) >= parse_time(closes.data):
            closes.errors.append(_l("Closing time must be after opening time."))
            return False
        return True

    def _check_severity(self, severity: str) -> bool:
        first, resolution = self[f"first_response_{severity}"], self[f"resolution_{severity}"]
        if first.errors or resolution.errors:
            return False
        if _number(resolution.data) < _number(first.data):
            resolution.errors.append(_l("Enter at least as many hours as for the first response."))
            return False
        return True


def _time_field(label):
    return StringField(label, filters=[_strip], validators=[_time_of_day], render_kw=TIME_ATTRS)


def _hours_field(label):
    return StringField(
        label,
        filters=[_strip],
        validators=[InputRequired(_l("Enter a number of hours.")), _hours],
        render_kw=HOURS_ATTRS,
    )


# One pair of fields per weekday and per severity; the template lays them out as rows.
for _weekday in WEEKDAYS:
    setattr(ComplaintSettingsForm, f"opens_{_weekday}", _time_field(_l("Opens")))
    setattr(ComplaintSettingsForm, f"closes_{_weekday}", _time_field(_l("Closes")))
for _severity in SEVERITIES:
    setattr(
        ComplaintSettingsForm,
        f"first_response_{_severity}",
        _hours_field(_l("First response within (hours)")),
    )
    setattr(
        ComplaintSettingsForm,
        f"resolution_{_severity}",
        _hours_field(_l("Resolved within (hours)")),
    )


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10  # fromisoformat also takes 20261225; the page asks for 2026-12-25


def _number(text: str) -> float | int:
    value = Decimal(text.replace(",", "."))
    return int(value) if value == value.to_integral_value() else float(value)


def _number_text(value) -> str:
    return str(_number(str(value)))
