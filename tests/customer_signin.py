"""Signing a test client in to the customer area, the way a customer does: through a link."""

import re

from portal import customer_links, sign_in_sessions, web
from portal.customer import session as customer_session

LINK = re.compile(r"http://[^/\s]+(/me/link/[A-Za-z0-9_\-]+)")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def link_path_in(body: str) -> str:
    """The path of the sign-in link in an e-mail's text."""
    match = LINK.search(body)
    assert match, "no sign-in link in the e-mail"
    return match.group(1)


def follow_link(client, path: str):
    """Open an e-mailed link and press its Sign in button, as a customer does."""
    page = client.get(path)
    if page.status_code != 200:
        return page  # a used, expired or unknown link: its message page
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post(path, data={"csrf_token": token})


def sign_in_customer(client, customer):
    """Follow a freshly made link for `customer`; returns the response (303 to My data)."""
    response = follow_link(client, f"/me/link/{customer_links.create_link(customer)}")
    assert response.status_code == 303, response.status_code
    return response


def start_customer_session(client, customer, language=None):
    """Sign `customer` in on this test client without the e-mail round trip: a real server-side
    session (portal/sign_in_sessions.py) in the session cookie, as following a link starts."""
    with client.session_transaction() as session:
        session[web.SESSION_TOKEN] = sign_in_sessions.start(customer_id=customer.id)
        session[customer_session.SESSION_KEY] = customer.id
        if language:
            session["language"] = language
    return client
