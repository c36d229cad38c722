"""Staff sign-in, sign-out and the language switcher."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from wtforms import SelectChoice

from .. import accounts
from ..extensions import limiter
from ..i18n import LANGUAGE_NAMES
from ..models import StaffAccount
from ..web import is_safe_next, record_audit
from . import bp
from .forms import LanguageForm, SignInForm


def _account_key() -> str:
    return "sign-in-account:" + request.form.get("email", "").strip().lower()


def _fresh_session() -> None:
    """Start a clean session at sign-in and sign-out, keeping only the chosen language."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key
)
def sign_in():
    """Show the sign-in form and sign a staff member in."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        account, named = accounts.authenticate(form.email.data, form.password.data)
        if account is not None:
            _fresh_session()
            login_user(account)
            record_audit("signed_in", target_type="staff", target_id=account.id)
            target = request.args.get("next")
            return redirect(
                target if is_safe_next(target) else url_for("staff.dashboard"), code=303
            )
        record_audit(
            "sign_in_failed",
            target_type="staff" if named else "",
            target_id=named.id if named else None,
        )
        # One message for unknown e-mail, wrong password and deactivated account alike.
        form.form_errors.append(_("That e-mail and password do not match an active account."))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign the current staff member out."""
    if current_user.is_authenticated:
        record_audit("signed_out", target_type="staff", target_id=current_user.id)
        logout_user()
    _fresh_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"), code=303)


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language (remembered on the staff account when signed in)."""
    form = LanguageForm()
    form.language.choices = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    if form.validate_on_submit():
        session["language"] = form.language.data
        if current_user.is_authenticated:
            StaffAccount.update(preferred_language=form.language.data).where(
                StaffAccount.id == current_user.id
            ).execute()
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("staff.dashboard"), code=303)
