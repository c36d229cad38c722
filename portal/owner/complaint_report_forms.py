"""The complaint report's period: two whole days in the business time zone, start before end."""

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import DataRequired, ValidationError

from ..business_hours import business_zone
from ..form_fields import within_years

ENTER_A_DATE = _l("Enter a date, like 2026-03-14.")


class ComplaintPeriodForm(FlaskForm):
    """The period on the report page (a GET form, no CSRF) and on its PDF download (a POST)."""

    start = DateField(
        _l("From"),
        invalid_value_message=ENTER_A_DATE,
        validators=[DataRequired(ENTER_A_DATE), within_years],
    )
    end = DateField(
        _l("To"),
        invalid_value_message=ENTER_A_DATE,
        validators=[DataRequired(ENTER_A_DATE), within_years],
    )

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))

    def period(self) -> dict:
        """The valid period as the job's parameters."""
        return {"start": self.start.data.isoformat(), "end": self.end.data.isoformat()}


def last_full_month(today: date | None = None) -> dict:
    """The default period: the last whole calendar month, the one a report is usually for."""
    today = today or datetime.now(business_zone()).date()
    end = today.replace(day=1) - timedelta(days=1)
    return {"start": end.replace(day=1), "end": end}
