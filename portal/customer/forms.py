"""Forms of the customer area's sign-in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Email, Length


class LinkRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Email(_l("Enter an e-mail address like name@example.com."), check_deliverability=False),
            Length(max=320),
        ],
    )


class CustomerLanguageForm(FlaskForm):
    language = SelectField(_l("Language"), validators=[DataRequired()])
