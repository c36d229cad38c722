"""Placeholder: filled in by the erasure part of issue 6."""
