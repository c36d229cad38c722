"""flask keys ... (filled in by the sensitive-identifiers part of issue 4)."""

from flask.cli import AppGroup

keys_cli = AppGroup("keys", help="Encryption keys for sensitive identifiers.")
