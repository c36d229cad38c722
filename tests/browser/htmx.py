"""Waiting for HTMX, and for a condition, in a real page.

Playwright's wait_for_function builds its predicate with eval inside the page, which our
Content-Security-Policy refuses (as it should); page.evaluate goes through the browser's
debugging protocol, which the policy does not cover, so conditions are polled from here.
"""

import time

from playwright.sync_api import Error as PlaywrightError

# htmx marks what it is swapping in with these classes and drops them when it settles; only
# then has it run the settle work, such as focusing the [autofocus] field of a new fragment.
_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def wait_for(page, expression: str, timeout: float = 10.0) -> None:
    """Wait until the JavaScript expression is true in the page."""
    deadline = time.monotonic() + timeout
    while not _holds(page, expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)


def _holds(page, expression: str) -> bool:
    try:
        return bool(page.evaluate(expression))
    except PlaywrightError:  # the page is navigating: its context is being replaced
        return False


def wait_until_settled(page) -> None:
    """Wait until HTMX has finished every request, swap and settle on the page."""
    wait_for(page, f"!document.querySelector({_BUSY!r})")
