"""flask retention ..., flask backup, flask restore (filled in by the erasure part of issue 4)."""

from flask.cli import AppGroup

retention_cli = AppGroup("retention", help="Retention periods: report and apply.")
# Further top-level commands (backup, restore) are appended here.
COMMANDS = [retention_cli]
