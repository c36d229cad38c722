"""Request-side helpers shared by the blueprints: access rules, audit from a request, redirects."""

from urllib.parse import urlparse

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from . import audit, sign_in_sessions
from .extensions import login_manager
from .i18n import in_language, select_language

SESSION_TOKEN = "session_token"
# Where an owner who has not set up two-factor sign-in yet may go meanwhile.
BEFORE_TWO_FACTOR = {"staff.two_factor_setup"}


def begin_session(*, staff_id: int | None = None, customer_id: int | None = None) -> None:
    """Start a clean session bound to a new server-side sign-in session, keeping only the
    chosen language; whatever session this browser had ends on the server too."""
    language = session.get("language")
    sign_in_sessions.end(session.get(SESSION_TOKEN))
    session.clear()
    if language:
        session["language"] = language
    session[SESSION_TOKEN] = sign_in_sessions.start(staff_id=staff_id, customer_id=customer_id)


def end_session() -> None:
    """End this browser's sign-in on the server and in the cookie, keeping the language."""
    language = session.get("language")
    sign_in_sessions.end(session.get(SESSION_TOKEN))
    session.clear()
    if language:
        session["language"] = language


def session_token() -> str | None:
    return session.get(SESSION_TOKEN)


def require_staff():
    """before_request hook: staff workspace pages need a signed-in staff account; an owner
    without two-factor sign-in is sent to set it up first."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.needs_two_factor_setup and request.endpoint not in BEFORE_TWO_FACTOR:
        return redirect(url_for("staff.two_factor_setup"))
    return None


def require_owner():
    """before_request hook: owner pages refuse staff with 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_owner:
        abort(403)
    if current_user.needs_two_factor_setup:
        return redirect(url_for("staff.two_factor_setup"))
    return None


def client_address() -> str:
    return request.remote_addr or ""


def record_audit(action: str, *, target_type: str = "", target_id: int | None = None, **details):
    """Audit an action by whoever makes this request (staff, or anonymous before sign-in)."""
    signed_in = current_user.is_authenticated
    return audit.record(
        action,
        actor_type="staff" if signed_in else "anonymous",
        actor_id=current_user.id if signed_in else None,
        target_type=target_type,
        target_id=target_id,
        ip_address=client_address(),
        **details,
    )


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths are followed after sign-in."""
    if not target:
        return False
    parsed = urlparse(target)
    return (
        not parsed.scheme
        and not parsed.netloc
        and target.startswith("/")
        and not target.startswith("//")
    )


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def customer_or_404(customer_id: int):
    """The customer staff asked for, or 404; erased customers are gone from the workspace."""
    from .models import Customer

    customer = Customer.active().where(Customer.id == customer_id).first()
    if customer is None:
        abort(404)
    return customer


def render_in_language(template: str, language: str | None, **context) -> str:
    """A page in the language of the customer an e-mailed link is for (the link does not know
    the browser's), or the request's when theirs is not one we have. The template gets it as
    `language` (for <html lang>)."""
    if language not in current_app.config["LANGUAGES"]:
        language = select_language()
    # Form messages are lazy: they translate when rendered, inside the forced locale;
    # in_language sets aside the request's cached catalog.
    with in_language(language):
        return render_template(template, language=language, **context)
