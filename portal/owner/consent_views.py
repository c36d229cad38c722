"""Placeholder: filled in by the consent part of issue 4."""
