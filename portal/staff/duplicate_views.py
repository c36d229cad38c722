"""Likely duplicates, the merge screen, and undoing a merge."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice

from .. import merge
from ..models import CustomerMerge
from ..web import customer_or_404, record_audit
from . import bp


def _merge_form(survivor, duplicate):
    """One radio choice per field that differs between the two records."""

    class MergeForm(FlaskForm):
        pass

    differing = [f for f in merge.CHOOSABLE_FIELDS if getattr(survivor, f) != getattr(duplicate, f)]
    for name in differing:
        field = RadioField(
            choices=[SelectChoice("keep", "keep"), SelectChoice("take", "take")], default="keep"
        )
        setattr(MergeForm, name, field)
    return MergeForm(), differing


@bp.route("/duplicates")
def duplicates():
    """Pairs of records that are probably the same person."""
    return render_template("staff/duplicates/index.html", pairs=merge.duplicate_pairs())


@bp.route("/customers/<int:survivor_id>/merge/<int:duplicate_id>", methods=["GET", "POST"])
def merge_customers(survivor_id: int, duplicate_id: int):
    """Compare two records, choose each differing field, and merge the second into the first."""
    survivor, duplicate = customer_or_404(survivor_id), customer_or_404(duplicate_id)
    if survivor.id == duplicate.id:
        abort(404)
    form, differing = _merge_form(survivor, duplicate)
    if form.validate_on_submit():
        taken = {name for name in differing if form[name].data == "take"}
        record = merge.merge(survivor, duplicate, taken, staff_id=current_user.id)
        record_audit(
            "customers_merged",
            target_type="customer",
            target_id=survivor.id,
            duplicate_id=duplicate.id,
            fields_taken=sorted(taken),
        )
        flash(_("The two records are now one. You can undo this from the profile."), "success")
        return redirect(url_for("staff.customer_profile", customer_id=record.survivor_id), code=303)
    refused = form.is_submitted()
    if refused:  # only an altered page posts something other than keep or take
        form.form_errors.append(_("Choose which value to keep for each field, then merge."))
    counts = {c.id: merge.history_counts(c.id) for c in (survivor, duplicate)}
    contacts = {c.id: merge.contacts_of(c.id) for c in (survivor, duplicate)}
    return render_template(
        "staff/duplicates/merge.html",
        survivor=survivor,
        duplicate=duplicate,
        form=form,
        differing=differing,
        counts=counts,
        contacts=contacts,
    ), 422 if refused else 200


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
def undo_merge(merge_id: int):
    """Split a merged record back into the two it was made from."""
    record = CustomerMerge.get_or_none(CustomerMerge.id == merge_id)
    form = FlaskForm()
    if record is None or record.undone_at is not None or not form.validate_on_submit():
        abort(404)
    merge.undo(record)
    record_audit(
        "merge_undone",
        target_type="customer",
        target_id=record.survivor_id,
        duplicate_id=record.duplicate_id,
    )
    flash(_("The merge was undone: both records are back as they were."), "success")
    return redirect(url_for("staff.customer_profile", customer_id=record.survivor_id), code=303)
