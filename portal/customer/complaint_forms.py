"""Forms of the customer's complaints and erasure request, and the plain words for a
complaint's codes as the customer reads them."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..complaints import CATEGORIES
from ..form_fields import no_control_characters
from ..staff.complaint_forms import COMPLAINT_CATEGORIES, MAX_BODY, subject_field
from ..staff.profile_forms import _strip, choices

# Where their complaint stands, in the customer's words rather than the workflow's.
STATUS_LABELS = {
    "new": _l("Received"),
    "in_progress": _l("We are working on it"),
    "waiting_for_customer": _l("Waiting for your answer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
# What each move in its history meant for the customer.
STATUS_EVENTS = {
    "in_progress": _l("We started working on your complaint."),
    "waiting_for_customer": _l("We asked you for more information."),
    "resolved": _l("We resolved your complaint."),
    "closed": _l("Your complaint was closed."),
}
REOPENED = _l("Your complaint was reopened.")

assert set(COMPLAINT_CATEGORIES) == set(CATEGORIES)


class CustomerComplaintForm(FlaskForm):
    """A complaint the customer raises; staff set its severity."""

    subject = subject_field()
    description = TextAreaField(
        _l("What happened"),
        filters=[_strip],
        validators=[
            no_control_characters,
            DataRequired(_l("Tell us what happened.")),
            Length(max=MAX_BODY, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"rows": 5},
    )
    category = SelectField(_l("Category"), choices=choices(COMPLAINT_CATEGORIES), default="other")


class CustomerReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"),
        filters=[_strip],
        validators=[
            no_control_characters,
            DataRequired(_l("Write your reply first.")),
            Length(max=MAX_BODY, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"rows": 4},
    )


class EraseMeForm(FlaskForm):
    """The button that asks for erasure (and the one that confirms it): CSRF only."""
