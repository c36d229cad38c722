"""Forms of the person's own account: password and two-factor sign-in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

NEW_PASSWORD_LENGTH = Length(
    min=10, max=1024, message=_l("Use between %(min)d and %(max)d characters.")
)


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=1024)],
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), NEW_PASSWORD_LENGTH],
    )
    repeat_password = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new_password", _l("The two new passwords are not the same.")),
        ],
    )


class TwoFactorSetupForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(_l("Enter the code from your app.")), Length(max=40)],
    )


class PasswordConfirmForm(FlaskForm):
    """Asked before something that would let a stolen session take over the account."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=1024)],
    )
