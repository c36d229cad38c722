"""One-click unsubscribe from a marketing e-mail (RFC 8058): no sign-in, the signed link is the
authority. Following the link withdraws consent at once; a mail client's own "unsubscribe"
button POSTs to the same address (List-Unsubscribe-Post), without a CSRF token."""

from .. import consent, outbox
from ..extensions import csrf
from ..web import client_address, render_in_language
from . import bp

PAGE = "auth/unsubscribe.html"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    try:
        message = outbox.message_for_unsubscribe(token)
    except outbox.UnsubscribeLinkInvalid:
        return render_in_language(PAGE, None, purpose=None), 404
    outbox.unsubscribe(message, ip_address=client_address())
    language = message.customer.preferred_language
    purpose = consent.titles(language, active_only=False).get(message.purpose_id, "")
    return render_in_language(PAGE, language, purpose=purpose)
