"""flask audit ... (filled in by the audit part of issue 4)."""

from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="The audit trail.")
