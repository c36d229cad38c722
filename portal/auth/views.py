"""Staff sign-in (with owners' second step), sign-out and the language switcher."""

from datetime import datetime, timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from wtforms import SelectChoice

from .. import accounts, two_factor
from ..extensions import limiter
from ..i18n import LANGUAGE_NAMES
from ..models import StaffAccount, utcnow
from ..web import begin_session, end_session, is_safe_next, record_audit
from . import bp
from .forms import LanguageForm, SecondStepForm, SignInForm

# Between the password and the code: which account, since when, and where to go after.
PENDING = "pending_sign_in"
PENDING_LIFETIME = timedelta(minutes=5)


def _account_key() -> str:
    return "sign-in-account:" + request.form.get("email", "").strip().lower()


def _pending_account_key() -> str:
    return "second-step-account:" + str((session.get(PENDING) or {}).get("account", ""))


def _complete_sign_in(account: StaffAccount, target: str | None, **details):
    begin_session(staff_id=account.id)
    login_user(account)
    record_audit("signed_in", target_type="staff", target_id=account.id, **details)
    return redirect(target if is_safe_next(target) else url_for("staff.dashboard"), code=303)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key
)
def sign_in():
    """Show the sign-in form and sign a staff member in (owners go on to the second step)."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        account, named = accounts.authenticate(form.email.data, form.password.data)
        target = request.args.get("next")
        if account is not None and account.has_two_factor:
            end_session()
            session[PENDING] = {
                "account": account.id,
                "at": utcnow().isoformat(),
                "next": target if is_safe_next(target) else None,
            }
            return redirect(url_for("auth.second_step"), code=303)
        if account is not None:
            return _complete_sign_in(account, target)
        record_audit(
            "sign_in_failed",
            target_type="staff" if named else "",
            target_id=named.id if named else None,
        )
        # One message for unknown e-mail, wrong password and deactivated account alike.
        form.form_errors.append(_("That e-mail and password do not match an active account."))
    return render_template("auth/sign_in.html", form=form)


def _pending_account() -> StaffAccount | None:
    pending = session.get(PENDING)
    if not pending or utcnow() - datetime.fromisoformat(pending["at"]) > PENDING_LIFETIME:
        return None
    return StaffAccount.get_or_none(
        StaffAccount.id == pending["account"],
        StaffAccount.active == True,  # noqa: E712
    )


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_pending_account_key,
)
def second_step():
    """The second step of an owner's sign-in: a code from the app or a recovery code."""
    account = _pending_account()
    if account is None:
        session.pop(PENDING, None)
        flash(_("Sign in again: the time for the code ran out."), "info")
        return redirect(url_for("auth.sign_in"), code=303)
    form = SecondStepForm()
    if form.validate_on_submit():
        method = two_factor.verify(account, form.code.data)
        if method is not None:
            target = session[PENDING].get("next")
            response = _complete_sign_in(account, target, method=method)
            if method == "recovery":
                left = two_factor.recovery_codes_left(account)
                flash(
                    ngettext(
                        "You used a recovery code; %(num)d is left. Make new ones on My account.",
                        "You used a recovery code; %(num)d are left. Make new ones on My account.",
                        left,
                    ),
                    "warning",
                )
            return response
        record_audit("two_factor_failed", target_type="staff", target_id=account.id)
        form.code.errors.append(
            _("That code is not right, or was used already. Enter the code your app shows now.")
        )
    status = 422 if form.errors else 200
    return render_template("auth/second_step.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign the current staff member out: this browser's session ends on the server too."""
    if current_user.is_authenticated:
        record_audit("signed_out", target_type="staff", target_id=current_user.id)
        logout_user()
    end_session()
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
