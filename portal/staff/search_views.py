"""Live search: the results partial HTMX swaps in while staff type, and the full page."""

from flask import render_template, request

from .. import search
from ..web import is_htmx
from . import bp

MAX_QUERY_LENGTH = 200


@bp.route("/search")
def search_customers():
    """Customers matching the query: a partial for HTMX, the full page otherwise."""
    query = request.args.get("q", "")[:MAX_QUERY_LENGTH]
    result = search.find(query)
    context = {
        "query": query,
        "result": result,
        "contacts": search.primary_contacts(result.customers),
    }
    template = "staff/search/_results.html" if is_htmx() else "staff/search/index.html"
    return render_template(template, **context), 200, {"Vary": "HX-Request"}
