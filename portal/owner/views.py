"""Owner pages: staff accounts (add, role, deactivate, reset password or two-factor)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import accounts
from ..models import StaffAccount
from ..web import record_audit
from . import bp
from .forms import ResetPasswordForm, RoleForm, StaffAccountForm


def _staff_page(form=None, reset_form=None, reset_for=None, status=200):
    staff = StaffAccount.select().order_by(StaffAccount.role, StaffAccount.name)
    return render_template(
        "owner/staff_accounts.html",
        form=form or StaffAccountForm(),
        reset_form=reset_form or ResetPasswordForm(),
        reset_for=reset_for,
        staff=staff,
    ), status


def _other_account(account_id: int) -> StaffAccount:
    """The account an owner acts on; their own is changed on My account, not here."""
    account = StaffAccount.get_or_none(StaffAccount.id == account_id)
    if account is None:
        abort(404)
    if account.id == current_user.id:
        abort(403)
    return account


@bp.route("/staff", methods=["GET", "POST"])
def staff_accounts():
    """List staff accounts and add a new one."""
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            account = accounts.create_staff(
                form.name.data, form.email.data, form.password.data, form.role.data
            )
        except accounts.AccountExists:
            form.email.errors.append(_("An account with this e-mail already exists."))
        else:
            record_audit(
                "staff_account_created",
                target_type="staff",
                target_id=account.id,
                role=account.role,
            )
            flash(_("Account created. Give the person their first password in person."), "success")
            return redirect(url_for("owner.staff_accounts"), code=303)
    return _staff_page(form, status=422 if form.errors else 200)


@bp.route("/staff/<int:account_id>/deactivate", methods=["POST"])
def deactivate_staff(account_id: int):
    """Deactivate an account: it cannot sign in, and its open sessions end now."""
    account = _other_account(account_id)
    accounts.set_active(account, False)
    record_audit("staff_account_deactivated", target_type="staff", target_id=account.id)
    flash(_("%(name)s can no longer sign in.", name=account.name), "success")
    return redirect(url_for("owner.staff_accounts"), code=303)


@bp.route("/staff/<int:account_id>/reactivate", methods=["POST"])
def reactivate_staff(account_id: int):
    account = _other_account(account_id)
    accounts.set_active(account, True)
    record_audit("staff_account_reactivated", target_type="staff", target_id=account.id)
    flash(_("%(name)s can sign in again.", name=account.name), "success")
    return redirect(url_for("owner.staff_accounts"), code=303)


@bp.route("/staff/<int:account_id>/role", methods=["POST"])
def change_staff_role(account_id: int):
    """Make someone an owner or staff (an owner's next sign-in asks them to set up a code)."""
    account = _other_account(account_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.set_role(account, form.role.data)
    record_audit("staff_role_changed", target_type="staff", target_id=account.id, role=account.role)
    flash(_("%(name)s's role is changed.", name=account.name), "success")
    return redirect(url_for("owner.staff_accounts"), code=303)


@bp.route("/staff/<int:account_id>/password", methods=["POST"])
def reset_staff_password(account_id: int):
    """Give a person a new password; their open sessions end."""
    account = _other_account(account_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(account, form.password.data)
        record_audit("staff_password_reset", target_type="staff", target_id=account.id)
        flash(
            _("New password set for %(name)s. Give it to them in person.", name=account.name),
            "success",
        )
        return redirect(url_for("owner.staff_accounts"), code=303)
    return _staff_page(reset_form=form, reset_for=account, status=422)


@bp.route("/staff/<int:account_id>/two-factor", methods=["POST"])
def reset_staff_two_factor(account_id: int):
    """Forget a lost authenticator; the person sets up a new one at their next sign-in."""
    account = _other_account(account_id)
    accounts.reset_two_factor(account)
    record_audit("two_factor_reset", target_type="staff", target_id=account.id)
    flash(
        _(
            "%(name)s's two-factor sign-in is reset; they set it up again when they next sign in.",
            name=account.name,
        ),
        "success",
    )
    return redirect(url_for("owner.staff_accounts"), code=303)
