"""Placeholder: filled in by the privacy part of issue 4."""
