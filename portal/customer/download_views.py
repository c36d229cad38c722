"""Placeholder: filled in by the download part of issue 6."""
