"""Owner pages for erasure requests (hold, execute, receipt) and the retention sweep."""

import json

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import erasure, retention
from ..models import Customer, ErasureRequest, ErasureTombstone
from . import bp
from .erasure_forms import PART_LABELS, ConfirmForm, HoldForm

PAGES = "owner/erasure/"
RECENT_COMPLETED = 20


def _request_or_404(request_id: int) -> ErasureRequest:
    request = ErasureRequest.get_or_none(ErasureRequest.id == request_id)
    if request is None:
        abort(404)
    return request


def _names(customer_ids) -> dict[int, str]:
    """Display names of customers not erased (an erased one has none to show)."""
    ids = list(set(customer_ids))
    if not ids:
        return {}
    rows = Customer.select(Customer.id, Customer.display_name).where(
        Customer.id.in_(ids) & Customer.erased_at.is_null()
    )
    return {row.id: row.display_name for row in rows}


@bp.route("/privacy/erasures")
def erasure_requests():
    """Erasure requests waiting for a decision, and the latest completed ones."""
    waiting = list(
        ErasureRequest.select()
        .where(ErasureRequest.status.in_(erasure.OPEN_STATUSES))
        .order_by(ErasureRequest.execute_after.asc(nulls="LAST"), ErasureRequest.id)
    )
    completed = list(
        ErasureRequest.select()
        .where(ErasureRequest.status == "completed")
        .order_by(ErasureRequest.completed_at.desc())
        .limit(RECENT_COMPLETED)
    )
    return render_template(
        PAGES + "index.html",
        waiting=waiting,
        completed=completed,
        names=_names(r.customer_id for r in waiting),
        part_labels=PART_LABELS,
    )


@bp.route("/privacy/erasures/<int:request_id>", methods=["GET", "POST"])
def erasure_request(request_id: int):
    """One request: who, since when, and the form to keep parts for a lawful reason."""
    request = _request_or_404(request_id)
    form = HoldForm()
    if request.status in ("pending", "on_hold") and form.validate_on_submit():
        erasure.hold(request, form.reason.data, form.parts.data, current_user.id)
        flash(_("The lawful reason is recorded; those parts will be kept."), "success")
        return redirect(url_for("owner.erasure_request", request_id=request.id), code=303)
    if not form.is_submitted() and request.kept_parts:
        form.parts.data = list(erasure.kept_parts(request))
        form.reason.data = request.lawful_reason
    status = 422 if form.errors else 200
    return render_template(
        PAGES + "request.html",
        request=request,
        form=form,
        name=_names([request.customer_id]).get(request.customer_id),
        part_labels=PART_LABELS,
    ), status


@bp.route("/privacy/erasures/<int:request_id>/execute", methods=["GET", "POST"])
def execute_erasure(request_id: int):
    """Confirm, then erase: the page says what goes and what stays."""
    request = _request_or_404(request_id)
    if request.status not in ("pending", "on_hold"):
        return redirect(url_for("owner.erasure_request", request_id=request.id), code=303)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            erasure.execute(request, current_user.id)
        except erasure.AlreadyErased:
            flash(_("This customer was already erased."), "info")
        return redirect(url_for("owner.erasure_receipt", request_id=request.id), code=303)
    kept = erasure.kept_parts(request)
    return render_template(
        PAGES + "confirm.html",
        request=request,
        form=form,
        name=_names([request.customer_id]).get(request.customer_id),
        counts=erasure.preview(request.customer_id, kept),
        kept=kept,
        part_labels=PART_LABELS,
    )


@bp.route("/privacy/erasures/<int:request_id>/receipt")
def erasure_receipt(request_id: int):
    """What an executed erasure removed, counted: no personal data is left to show."""
    request = _request_or_404(request_id)
    tombstone = (
        ErasureTombstone.select()
        .where(ErasureTombstone.customer_id == request.customer_id)
        .order_by(ErasureTombstone.id.desc())
        .first()
    )
    if request.status != "completed" or tombstone is None:
        return redirect(url_for("owner.erasure_request", request_id=request.id), code=303)
    kept = [p for p in tombstone.kept.split(",") if p]
    return render_template(
        PAGES + "receipt.html",
        request=request,
        tombstone=tombstone,
        removed=json.loads(tombstone.removed),
        kept=kept,
        part_labels=PART_LABELS,
    )


# --- Retention -----------------------------------------------------------------------------


@bp.route("/privacy/retention")
def retention_report():
    """Who is past their retention period and why (nothing is changed here)."""
    return render_template("owner/retention/report.html", report=retention.sweep())


@bp.route("/privacy/retention/apply", methods=["GET", "POST"])
def apply_retention():
    """Confirm, then erase everyone the report lists (except those on hold)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        report = retention.sweep(apply=True, staff_id=current_user.id)
        flash(
            ngettext(
                "Retention sweep done: %(num)d customer erased.",
                "Retention sweep done: %(num)d customers erased.",
                report.erased,
            ),
            "success",
        )
        return redirect(url_for("owner.retention_report"), code=303)
    return render_template("owner/retention/confirm.html", report=retention.sweep(), form=form)
