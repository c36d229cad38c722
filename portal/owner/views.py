"""Owner pages: staff accounts (more owner pages arrive with their issues)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import accounts
from ..models import StaffAccount
from ..web import record_audit
from . import bp
from .forms import StaffAccountForm


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
    staff = StaffAccount.select().order_by(StaffAccount.role, StaffAccount.name)
    return render_template("owner/staff_accounts.html", form=form, staff=staff)
