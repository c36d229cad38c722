"""Placeholder: filled in by the data part of issue 6."""
