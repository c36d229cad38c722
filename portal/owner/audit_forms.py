"""The audit log's filters, and the words the log uses for each audited action."""

from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice
from wtforms.validators import NumberRange, Optional, StopValidation, ValidationError

from ..audit import LogFilters
from ..form_fields import ListField, within_years

# Every action the application records, as the owner reads it.
ACTION_LABELS = {
    "signed_in": _l("Signed in"),
    "sign_in_failed": _l("Failed to sign in"),
    "sign_in_throttled": _l("Sign-in attempts slowed down"),
    "signed_out": _l("Signed out"),
    "customer_viewed": _l("Viewed a customer"),
    "customer_created": _l("Created a customer"),
    "customer_updated": _l("Changed a customer"),
    "customer_data_downloaded": _l("Downloaded their own data"),
    "customers_tagged": _l("Tagged customers"),
    "customers_merged": _l("Merged two customers"),
    "merge_undone": _l("Undid a merge"),
    "segment_saved": _l("Saved a segment"),
    "settings_changed": _l("Changed settings"),
    "identifier_added": _l("Added an identifier"),
    "identifier_revealed": _l("Revealed an identifier"),
    "identifier_removed": _l("Removed an identifier"),
    "encryption_key_rotated": _l("Rotated the encryption key"),
    "consent_recorded": _l("Recorded consent"),
    "consent_purpose_created": _l("Created a consent purpose"),
    "consent_wording_versioned": _l("Changed a consent wording"),
    "consent_purpose_deactivated": _l("Retired a consent purpose"),
    "consent_purpose_reactivated": _l("Brought back a consent purpose"),
    "contact_list_exported": _l("Exported a contact list"),
    "campaign_created": _l("Wrote a campaign"),
    "campaign_changed": _l("Changed a campaign"),
    "campaign_deleted": _l("Deleted a campaign draft"),
    "campaign_scheduled": _l("Scheduled a campaign"),
    "campaign_started": _l("Started sending a campaign"),
    "campaign_cancelled": _l("Cancelled a campaign"),
    "messages_sent": _l("Sent campaign or automation e-mails"),
    "automation_created": _l("Created an automation"),
    "automation_changed": _l("Changed an automation"),
    "automation_paused": _l("Paused an automation"),
    "automation_resumed": _l("Resumed an automation"),
    "privacy_request_opened": _l("Opened a privacy request"),
    "privacy_request_closed": _l("Closed a privacy request"),
    "erasure_requested": _l("Asked for erasure"),
    "erasure_confirmed": _l("Confirmed an erasure request"),
    "erasure_held": _l("Kept part of a customer's data"),
    "erasure_cancelled": _l("Cancelled an erasure request"),
    "erasure_done_mailed": _l("Told the customer their data was erased"),
    "customer_erased": _l("Erased a customer"),
    "customer_link_sent": _l("Sent a customer a sign-in link"),
    "customer_invitation_sent": _l("Invited a customer to see their data"),
    "customer_signed_in": _l("Customer signed in"),
    "customer_signed_out": _l("Customer signed out"),
    "customer_data_viewed": _l("Customer viewed their data"),
    "retention_swept": _l("Ran the retention sweep"),
    "breach_recorded": _l("Recorded a breach"),
    "breach_authority_notified": _l("Noted the authority was told of a breach"),
    "breach_report_viewed": _l("Viewed a breach report"),
    "breach_report_exported": _l("Downloaded a breach report"),
    "report_exported": _l("Downloaded a report"),
    "complaint_report_viewed": _l("Viewed the complaint report"),
    "customer_data_report_exported": _l("Exported a customer's data report"),
    "processing_record_exported": _l("Downloaded the record of processing"),
    "staff_account_created": _l("Created a staff account"),
    "staff_account_deactivated": _l("Deactivated a staff account"),
    "staff_account_reactivated": _l("Reactivated a staff account"),
    "staff_role_changed": _l("Changed a staff account's role"),
    "staff_password_reset": _l("Reset a staff member's password"),
    "two_factor_reset": _l("Reset a staff member's two-factor sign-in"),
    "password_changed": _l("Changed their password"),
    "signed_out_elsewhere": _l("Signed out their other browsers"),
    "two_factor_enabled": _l("Turned on two-factor sign-in"),
    "two_factor_failed": _l("Entered a wrong sign-in code"),
    "recovery_codes_renewed": _l("Made new recovery codes"),
    "audit_log_viewed": _l("Viewed the audit log"),
    "complaint_opened": _l("Opened a complaint"),
    "complaint_status_changed": _l("Changed a complaint's status"),
    "complaint_assigned": _l("Assigned a complaint"),
    "complaint_replied": _l("Replied to a complaint"),
    "complaint_note_added": _l("Added an internal note to a complaint"),
    "complaint_customer_replied": _l("Customer replied to a complaint"),
    "complaint_resolution_recorded": _l("Recorded a complaint's resolution"),
    "complaint_rated": _l("Rated the resolution of a complaint"),
    "import_uploaded": _l("Uploaded a file to import"),
    "import_cancelled": _l("Stopped an import"),
    "customers_imported": _l("Imported customers"),
    "import_undone": _l("Undid an import"),
    "import_problems_downloaded": _l("Downloaded an import's problems"),
}

ACTOR_TYPES = {
    "customer": _l("A customer (self-service)"),
    "system": _l("The system"),
    "anonymous": _l("Someone not signed in"),
}

_LARGEST_ID = 2**31 - 1  # an integer column on both engines


class NumberField(IntegerField):
    """A whole number; text that is not one gets its own message, not range messages too."""

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


class AuditLogFilterForm(FlaskForm):
    """Filters read from the query string (a GET form changes nothing)."""

    class Meta:
        csrf = False

    who = ListField(_l("Who"), choices=[], default="")
    action = ListField(_l("What"), choices=[], default="")
    customer = NumberField(
        _l("Customer number"),
        invalid_value_message=_l("Enter a customer number, like 1024."),
        validators=[
            Optional(),
            NumberRange(1, _LARGEST_ID, message=_l("Enter a customer number, like 1024.")),
        ],
    )
    since = DateField(
        _l("From"),
        invalid_value_message=_l("Enter a date, like 2026-03-14."),
        validators=[Optional(), within_years],
    )
    until = DateField(
        _l("To"),
        invalid_value_message=_l("Enter a date, like 2026-03-14."),
        validators=[Optional(), within_years],
    )

    def __init__(self, staff, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.who.choices = [
            SelectChoice("", _l("Anyone")),
            *(SelectChoice(f"staff:{account.id}", account.name) for account in staff),
            *(SelectChoice(value, label) for value, label in ACTOR_TYPES.items()),
        ]
        labelled = sorted(ACTION_LABELS.items(), key=lambda item: str(item[1]).casefold())
        self.action.choices = [SelectChoice("", _l("Any action"))] + [
            SelectChoice(value, label) for value, label in labelled
        ]

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> LogFilters:
        """The valid form as filters; dates are whole days in the business's time zone."""
        actor_type, _sep, actor_id = (self.who.data or "").partition(":")
        return LogFilters(
            actor_type=actor_type or None,
            actor_id=int(actor_id) if actor_id else None,
            action=self.action.data or None,
            customer_id=self.customer.data,
            since=_day_start(self.since.data) if self.since.data else None,
            until=_day_start(self.until.data + timedelta(days=1)) if self.until.data else None,
        )


def _day_start(day) -> datetime:
    return to_utc(datetime.combine(day, time.min))
