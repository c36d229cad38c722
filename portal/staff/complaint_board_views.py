"""The complaints board: columns by status or assignee, filtered, with inline card actions."""

from flask import render_template, request

from ..complaint_board import board
from ..models import utcnow
from ..web import is_htmx
from . import bp
from .complaint_board_forms import BoardForm
from .complaint_views import LABELS, card_context

VARY = {"Vary": "HX-Request"}


@bp.route("/complaints")
def complaint_board():
    """Complaints in columns, overdue first; HTMX asks for just the board when filters change."""
    form = BoardForm(formdata=request.args)
    valid = form.validate()
    now = utcnow()
    columns = board(form.filters, group_by=form.group_by.data, now=now) if valid else []
    context = {
        "form": form,
        "group_by": form.group_by.data if valid else "status",
        "columns": columns,
        # What each card (the complaint pages' _card.html) needs, by complaint id.
        "cards": {c.id: card_context(c, now=now) for col in columns for c in col.cards},
        "labels": LABELS,
    }
    template = "staff/complaints/_board.html" if is_htmx() else "staff/complaints/board.html"
    return render_template(template, **context), 200 if valid else 422, VARY
