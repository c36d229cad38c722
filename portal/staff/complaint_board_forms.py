"""The complaints board's filters, read from the query string (a GET form changes nothing)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField

from ..complaint_board import BoardFilters
from ..models import Complaint, Location
from .complaint_forms import COMPLAINT_CATEGORIES, SEVERITY_CHOICES


class BoardForm(FlaskForm):
    class Meta:
        csrf = False

    group_by = SelectField(
        _l("Group by"),
        choices=[SelectChoice("status", _l("Status")), SelectChoice("assignee", _l("Assignee"))],
        default="status",
    )
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice("", _l("All categories"))]
        + [SelectChoice(code, label) for code, label in COMPLAINT_CATEGORIES.items()],
        default="",
    )
    severity = SelectField(
        _l("Severity"),
        choices=[SelectChoice("", _l("All severities"))]
        + [SelectChoice(code, SEVERITY_CHOICES[code]) for code in Complaint.SEVERITIES],
        default="",
    )
    location = SelectField(_l("Location"), choices=[], default="")
    show_closed = BooleanField(_l("Show closed complaints"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locations = Location.select(Location.id, Location.name).order_by(Location.name)
        self.location.choices = [SelectChoice("", _l("All locations"))] + [
            SelectChoice(str(location.id), location.name) for location in locations
        ]

    @property
    def filters(self) -> BoardFilters:
        return BoardFilters(
            category=self.category.data or "",
            severity=self.severity.data or "",
            location_id=int(self.location.data) if self.location.data else None,
            show_closed=bool(self.show_closed.data),
        )
