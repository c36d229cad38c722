"""My account: the person's own password, sessions and two-factor sign-in."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from .. import accounts, passwords, settings, sign_in_sessions, two_factor
from ..web import begin_session, record_audit, session_token
from . import bp
from .account_forms import PasswordChangeForm, PasswordConfirmForm, TwoFactorSetupForm


def _account_page(password_form=None, status=200):
    return render_template(
        "staff/account/account.html",
        password_form=password_form or PasswordChangeForm(),
        codes_left=two_factor.recovery_codes_left(current_user),
    ), status


@bp.route("/account")
def my_account():
    """The signed-in person's account: details, password, two-factor sign-in."""
    return _account_page()


@bp.route("/account/password", methods=["POST"])
def change_password():
    """Change one's own password; every other browser signed in to this account is signed out."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        changed = accounts.change_own_password(
            current_user,
            form.current_password.data,
            form.new_password.data,
            session_token=session_token(),
        )
        if changed:
            # A new session for this browser as well: a copy of its old cookie ends too.
            account = current_user._get_current_object()
            begin_session(staff_id=account.id)
            login_user(account)
            record_audit("password_changed", target_type="staff", target_id=current_user.id)
            flash(
                _("Password changed. Other browsers signed in to your account were signed out."),
                "success",
            )
            return redirect(url_for("staff.my_account"), code=303)
        form.current_password.errors.append(_("That is not your current password."))
    return _account_page(form, 422)


@bp.route("/account/sign-out-elsewhere", methods=["POST"])
def sign_out_elsewhere():
    """End every other session of this account (a browser left signed in somewhere)."""
    ended = sign_in_sessions.end_all_for_staff(current_user.id, except_token=session_token())
    record_audit(
        "signed_out_elsewhere", target_type="staff", target_id=current_user.id, sessions=ended
    )
    flash(_("Every other browser signed in to your account was signed out."), "success")
    return redirect(url_for("staff.my_account"), code=303)


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor_setup():
    """Set up sign-in with a code from an authenticator app (required for owners)."""
    if current_user.has_two_factor:
        return redirect(url_for("staff.my_account"))
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        codes = two_factor.confirm_setup(current_user, form.code.data)
        if codes is not None:
            record_audit("two_factor_enabled", target_type="staff", target_id=current_user.id)
            return render_template("staff/account/recovery_codes.html", codes=codes)
        form.code.errors.append(
            _("That code is not right. Check the app's clock and enter the code it shows now.")
        )
    secret = two_factor.begin_setup(current_user)
    uri = two_factor.setup_uri(current_user, secret, issuer=settings.get("business_name"))
    return render_template(
        "staff/account/two_factor.html",
        form=form,
        qr=two_factor.qr_svg(uri),
        secret=two_factor.grouped(secret),
    ), 422 if form.errors else 200


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
def new_recovery_codes():
    """Replace the recovery codes (the old ones stop working); asks for the password first."""
    if not current_user.has_two_factor:
        return redirect(url_for("staff.two_factor_setup"))
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if passwords.verify(current_user.password_hash, form.password.data):
            codes = two_factor.new_recovery_codes(current_user)
            record_audit("recovery_codes_renewed", target_type="staff", target_id=current_user.id)
            return render_template("staff/account/recovery_codes.html", codes=codes)
        form.password.errors.append(_("That is not your current password."))
    return render_template("staff/account/confirm_password.html", form=form), (
        422 if form.errors else 200
    )
