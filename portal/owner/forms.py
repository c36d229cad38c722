from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from ..form_fields import no_control_characters

# A password an owner gives someone (their first, or after a reset).
PASSWORD_LENGTH = Length(min=10, max=1024, message=_l("Use at least %(min)d characters."))


class StaffAccountForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter the person's name.")),
            no_control_characters,
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
    )
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            Email(_l("Enter an e-mail address like name@example.com."), check_deliverability=False),
            Length(max=320, message=_l("Use at most %(max)d characters.")),
        ],
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("staff", _l("Staff")), SelectChoice("owner", _l("Owner"))],
        default="staff",
    )
    password = PasswordField(
        _l("First password"),
        validators=[DataRequired(_l("Enter a first password.")), PASSWORD_LENGTH],
    )


class ResetPasswordForm(FlaskForm):
    """A new first password an owner gives a person who forgot theirs."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), PASSWORD_LENGTH],
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("staff", _l("Staff")), SelectChoice("owner", _l("Owner"))],
    )
