from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length


class SignInForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Email(_l("Enter an e-mail address like name@example.com."), check_deliverability=False),
            Length(max=320),
        ],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)]
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), validators=[DataRequired()])


class SecondStepForm(FlaskForm):
    """The code from the authenticator app, or one recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code from your app.")), Length(max=40)],
    )
