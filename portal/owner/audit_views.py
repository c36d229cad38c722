"""Placeholder: filled in by the audit part of issue 4."""
