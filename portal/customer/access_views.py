"""Placeholder: filled in by the access part of issue 6."""
