"""The staff workspace."""

from flask import render_template

from .. import settings
from ..dashboard import overview
from . import bp


@bp.route("/")
def dashboard():
    """The staff dashboard: the day's figures and the newest customers."""
    return render_template(
        "staff/dashboard.html", figures=overview(), currency=settings.get("currency")
    )
