"""The customer rates how their complaint was resolved, through the signed link in the closing
e-mail: no sign-in, once per complaint, in the customer's own language."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length

from .. import complaints
from ..form_fields import no_control_characters
from ..web import render_in_language
from . import bp

PAGE = "auth/rate_complaint.html"


class RatingForm(FlaskForm):
    score = RadioField(
        _l("How satisfied are you with how we resolved your complaint?"),
        choices=[SelectChoice(str(n), str(n)) for n in complaints.SCORES],
        validators=[InputRequired(_l("Choose a score from 1 to 5."))],
        validate_choice=False,  # checked below with the same message as a missing score
    )
    comment = TextAreaField(
        _l("Anything you would like to add (optional)"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            no_control_characters,
            Length(max=2000, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"rows": 4},
    )

    def validate_score(self, field):
        if field.data not in {str(n) for n in complaints.SCORES}:
            raise ValidationError(_l("Choose a score from 1 to 5."))


@bp.route("/rate/<token>", methods=["GET", "POST"])
def rate_complaint(token: str):
    """Show the rating form for the complaint the link names, and record the rating once."""
    try:
        complaint = complaints.complaint_for_rating(token)
    except complaints.RatingLinkExpired:
        return _render(None, state="expired", status=410)
    except complaints.RatingLinkInvalid:
        return _render(None, state="invalid", status=404)
    language = complaint.customer.preferred_language
    if complaint.satisfaction is not None:
        return _render(complaint, state="rated", language=language)
    if not complaints.can_rate(complaint):
        return _render(complaint, state="reopened", language=language)
    form = RatingForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return _render(complaint, state="form", form=form, language=language, status=status)
    try:
        complaints.rate(complaint, int(form.score.data), form.comment.data or "")
    except complaints.RatingRefused:
        return _render(complaint, state="rated", language=language)
    return _render(complaint, state="thanks", language=language)


def _render(complaint, *, state: str, form=None, language=None, status: int = 200):
    html = render_in_language(PAGE, language, complaint=complaint, state=state, form=form)
    return html, status
