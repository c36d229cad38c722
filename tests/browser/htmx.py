"""Waiting for HTMX in a real page."""

# htmx marks what it is swapping in with these classes and drops them when it settles; only
# then has it run the settle work, such as focusing the [autofocus] field of a new fragment.
_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def wait_until_settled(page) -> None:
    """Wait until HTMX has finished every request, swap and settle on the page."""
    page.wait_for_function(f"!document.querySelector({_BUSY!r})")
