"""Signing a test client in to the customer area, the way a customer does: through a link."""

import re

from portal import customer_links

LINK = re.compile(r"http://[^/\s]+(/me/link/[A-Za-z0-9_\-]+)")


def link_path_in(body: str) -> str:
    """The path of the sign-in link in an e-mail's text."""
    match = LINK.search(body)
    assert match, "no sign-in link in the e-mail"
    return match.group(1)


def sign_in_customer(client, customer):
    """Follow a freshly made link for `customer`; returns the response (303 to My data)."""
    token = customer_links.create_link(customer)
    response = client.get(f"/me/link/{token}")
    assert response.status_code == 303, response.status_code
    return response
