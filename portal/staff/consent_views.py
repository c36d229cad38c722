"""Placeholder: filled in by the consent part of issue 4."""


def profile_context(customer) -> dict:
    """What the profile page needs for this section."""
    return {}
