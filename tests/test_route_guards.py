"""Every route guarded (issue 9): who reaches each route of the URL map, and CSRF on every change.

One table, GUARDS, says what each of five visitors gets from every (endpoint, method) of the
application: an anonymous visitor, two customers signed in to the self-service area (A and B),
a staff member and the owner. The test walks the URL map, so a route added without an entry,
or an entry left behind by a removed route, fails by name.

The records the routes need (customers, a complaint, an import, an export, erasure requests,
signed links...) are built once per engine; each visitor gets a set of its own, so that what one
visitor's POST changes (a merge, an erasure, a used link) never decides another's answer.
Customer-area routes that name a record always name customer A's: B must be refused them.
"""

import hashlib
import io
import shutil
from collections import namedtuple
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask import url_for

from portal import (
    breaches,
    campaigns,
    complaints,
    consent,
    create_app,
    customer_links,
    erasure,
    exports,
    history,
    identifiers,
    jobs,
    merge,
    outbox,
    privacy_requests,
    signed_links,
)
from portal.accounts import create_staff
from portal.customer_list import Filters
from portal.db import is_postgresql
from portal.extensions import db
from portal.imports import importer
from portal.imports.mapping import suggest
from portal.message_content import Text, dump
from portal.models import (
    Automation,
    ErasureRequest,
    ExportJob,
    ImportJob,
    OutgoingMessage,
    utcnow,
)
from tests.conftest import (
    ENGINES,
    PASSWORD,
    _truncate_postgresql,
    base_config,
    csrf_token_from,
    enrol_two_factor,
    sign_in,
)
from tests.customer_signin import sign_in_customer
from tests.factories import make_customer
from tests.import_files import csv_bytes
from tests.test_consent import EMAIL_TEXTS, SMS_TEXTS

# --- What a visitor gets ----------------------------------------------------------------------

OK = "OK"  # reached: 2xx, or 422 with the form's messages (the form logic is not tested here)
DONE = "DONE"  # reached, and answered with a redirect: Post/Redirect/Get, or a page sending on
SIGN_IN = "SIGN_IN"  # sent to the staff sign-in (/sign-in)
ME_SIGN_IN = "ME_SIGN_IN"  # sent to the customer area's sign-in (/me/sign-in)
FORBIDDEN = "FORBIDDEN"  # 403: signed in, but not allowed
NOT_FOUND = "NOT_FOUND"  # 404: not there for this visitor (another customer's record)

VISITORS = ("anonymous", "customer_a", "customer_b", "staff", "owner")
Guard = namedtuple("Guard", VISITORS)

# fmt: off
GUARDS = {
    #                                             anonymous   customer_a  customer_b  staff       owner
    # Public: static files, the staff sign-in and the language switcher, the complaint rating
    # link (a token, see below). The code step of an owner's sign-in sends everyone back to the
    # sign-in while no password step is pending.
    ("static", "GET"):                            Guard(OK,         OK,         OK,         OK,         OK),
    ("auth.rate_complaint", "GET"):               Guard(OK,         OK,         OK,         OK,         OK),  # token
    ("auth.rate_complaint", "POST"):              Guard(OK,         OK,         OK,         OK,         OK),  # token
    ("auth.unsubscribe", "GET"):                  Guard(OK,         OK,         OK,         OK,         OK),  # token
    ("auth.unsubscribe", "POST"):                 Guard(OK,         OK,         OK,         OK,         OK),  # token
    ("auth.second_step", "GET"):                  Guard(DONE,       DONE,       DONE,       DONE,       DONE),
    ("auth.second_step", "POST"):                 Guard(DONE,       DONE,       DONE,       DONE,       DONE),
    ("auth.set_language", "POST"):                Guard(DONE,       DONE,       DONE,       DONE,       DONE),
    ("auth.sign_in", "GET"):                      Guard(OK,         OK,         OK,         DONE,       DONE),
    ("auth.sign_in", "POST"):                     Guard(OK,         OK,         OK,         DONE,       DONE),
    ("auth.sign_out", "POST"):                    Guard(DONE,       DONE,       DONE,       DONE,       DONE),
    # The customer area. Its sign-in pages are public. Links carrying a token are public by
    # design: the e-mailed single-use sign-in link (/me/link/<token>), the signed erasure
    # confirmation link (/me/erase/confirm/<token>) and the signed complaint rating link
    # (/rate/<token>, above): the token proves the mailbox, whoever opens it. Every other page
    # needs a signed-in customer and shows only their own data; the one record named in a
    # path, a complaint, is customer A's: customer B gets 404.
    ("customer.change_consent", "POST"):          Guard(ME_SIGN_IN, DONE,       DONE,       ME_SIGN_IN, ME_SIGN_IN),
    ("customer.complaint", "GET"):                Guard(ME_SIGN_IN, OK,         NOT_FOUND,  ME_SIGN_IN, ME_SIGN_IN),
    ("customer.complaint_reply", "POST"):         Guard(ME_SIGN_IN, OK,         NOT_FOUND,  ME_SIGN_IN, ME_SIGN_IN),
    ("customer.complaints", "GET"):               Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.complaints", "POST"):              Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.confirm_erasure", "GET"):          Guard(OK,         OK,         OK,         OK,         OK),  # token
    ("customer.confirm_erasure", "POST"):         Guard(DONE,       DONE,       DONE,       DONE,       DONE),  # token
    ("customer.consent", "GET"):                  Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.download", "GET"):                 Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.download_csv", "GET"):             Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.download_json", "GET"):            Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.download_pdf", "GET"):             Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.edit_details", "GET"):             Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.edit_details", "POST"):            Guard(ME_SIGN_IN, DONE,       DONE,       ME_SIGN_IN, ME_SIGN_IN),
    ("customer.erase_me", "GET"):                 Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.erase_me", "POST"):                Guard(ME_SIGN_IN, DONE,       DONE,       ME_SIGN_IN, ME_SIGN_IN),
    ("customer.follow_link", "GET"):              Guard(OK,         OK,         OK,         OK,         OK),  # token
    ("customer.follow_link", "POST"):             Guard(DONE,       DONE,       DONE,       DONE,       DONE),  # token
    ("customer.link_sent", "GET"):                Guard(OK,         OK,         OK,         OK,         OK),
    ("customer.my_data", "GET"):                  Guard(ME_SIGN_IN, OK,         OK,         ME_SIGN_IN, ME_SIGN_IN),
    ("customer.set_language", "POST"):            Guard(DONE,       DONE,       DONE,       DONE,       DONE),
    ("customer.sign_in", "GET"):                  Guard(OK,         DONE,       DONE,       OK,         OK),
    ("customer.sign_in", "POST"):                 Guard(OK,         DONE,       DONE,       OK,         OK),
    ("customer.sign_out", "POST"):                Guard(ME_SIGN_IN, DONE,       DONE,       ME_SIGN_IN, ME_SIGN_IN),
    # The staff workspace: any signed-in staff account, staff or owner. My account's two-factor
    # pages send each person where their own set-up stands.
    ("staff.add_identifier", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.add_interaction", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.add_purchase", "POST"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.bulk_tag", "POST"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.change_password", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.close_privacy_request", "POST"):      Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.complaint", "GET"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.complaint_assign", "POST"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.complaint_board", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.complaint_note", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.complaint_reply", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.complaint_resolution", "POST"):       Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.complaint_status", "POST"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.customer_profile", "GET"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.customer_timeline", "GET"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.customers", "GET"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.dashboard", "GET"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.duplicates", "GET"):                  Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.edit_customer", "GET"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.edit_customer", "POST"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       DONE),
    ("staff.invite_customer", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       DONE),
    ("staff.likely_duplicates", "GET"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.masked_identifier", "GET"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       DONE),
    ("staff.merge_customers", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.merge_customers", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       DONE),
    ("staff.my_account", "GET"):                  Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.new_customer", "GET"):                Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.new_customer", "POST"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.new_recovery_codes", "GET"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       OK),
    ("staff.new_recovery_codes", "POST"):         Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       OK),
    ("staff.open_complaint", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.record_consent", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.record_privacy_request", "POST"):     Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.remove_identifier", "POST"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       DONE),
    ("staff.reveal_identifier", "POST"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.search_customers", "GET"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.segments", "GET"):                    Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.segments", "POST"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         OK),
    ("staff.sign_out_elsewhere", "POST"):         Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       DONE),
    ("staff.two_factor_setup", "GET"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         DONE),
    ("staff.two_factor_setup", "POST"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    OK,         DONE),
    ("staff.undo_merge", "POST"):                 Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    DONE,       DONE),
    # Owner pages: staff accounts, settings, imports, exports, reports, privacy desk, audit log
    # (SPEC 6.5): staff get 403.
    ("owner.apply_retention", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.apply_retention", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.audit_log", "GET"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.automation", "GET"):                  Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.automation_active", "POST"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.automation_edit", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.automation_edit", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.automation_new", "GET"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.automation_new", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.automation_run", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.automations", "GET"):                 Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.breach_authority_notified", "POST"):  Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.breach_report", "GET"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.breach_report_csv", "GET"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.breaches", "GET"):                    Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.breaches", "POST"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.cancel_import", "POST"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.campaign", "GET"):                    Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaign_cancel", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.campaign_delete", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.campaign_edit", "GET"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaign_edit", "POST"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaign_list_link", "GET"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaign_new", "GET"):                Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaign_new", "POST"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaign_resume", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.campaign_schedule", "POST"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaign_send", "POST"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.campaign_speed", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.campaigns", "GET"):                   Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.change_staff_role", "POST"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.complaint_report_page", "GET"):       Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.complaint_report_pdf", "POST"):       Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.complaint_settings", "GET"):          Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.complaint_settings", "POST"):         Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.consent_purpose", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.consent_purpose", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.consent_purposes", "GET"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.contact_list", "GET"):                Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.customer_data_report", "GET"):        Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.deactivate_staff", "POST"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.delete_saved_mapping", "POST"):       Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.download_job", "GET"):                Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.erasure_receipt", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.erasure_request", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.erasure_request", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.erasure_requests", "GET"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.execute_erasure", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.execute_erasure", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.export_contact_list", "POST"):        Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.export_selection", "POST"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.import_mapping", "GET"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.import_page", "GET"):                 Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.import_problems_csv", "GET"):         Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.import_progress", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.imports", "GET"):                     Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.job", "GET"):                         Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.new_consent_purpose", "GET"):         Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.new_consent_purpose", "POST"):        Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.new_export", "GET"):                  Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.privacy_desk", "GET"):                Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.privacy_periods", "GET"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.privacy_periods", "POST"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.processing_record_pdf", "GET"):       Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.processing_settings", "GET"):         Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.processing_settings", "POST"):        Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.reactivate_staff", "POST"):           Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.report_summary", "GET"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.reports", "GET"):                     Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.request_report_summary", "POST"):     Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.reset_staff_password", "POST"):       Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.reset_staff_two_factor", "POST"):     Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.retention_report", "GET"):            Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.save_import_mapping", "POST"):        Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.set_consent_purpose_active", "POST"): Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.staff_accounts", "GET"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.staff_accounts", "POST"):             Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
    ("owner.start_export", "POST"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.start_import", "POST"):               Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.undo_import", "POST"):                Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  DONE),
    ("owner.upload_import", "POST"):              Guard(SIGN_IN,    SIGN_IN,    SIGN_IN,    FORBIDDEN,  OK),
}
# fmt: on

# Routes exempt from CSRF, with the reason; the CSRF tests expect them to accept a request
# without a token.
CSRF_EXEMPT: dict[tuple[str, str], str] = {
    # RFC 8058: a mail client's one-click unsubscribe POSTs with no token; the signed link is
    # the authority, and all it can do is withdraw one consent.
    ("auth.unsubscribe", "POST"): "one-click unsubscribe from a mail client",
}

# --- Records the routes need --------------------------------------------------------------------

# Each rule's URL arguments, from the records of the visitor's own set (`t`, see _visitor_set)
# and the records every visitor shares (`w`: customers A and B).
ARGUMENTS = {
    "static": lambda t, w: {"filename": "js/kartoteka.js"},
    "auth.rate_complaint": lambda t, w: {"token": t.rating_token},
    "auth.unsubscribe": lambda t, w: {"token": t.unsubscribe_token},
    "customer.follow_link": lambda t, w: {"token": t.link_token},
    "customer.confirm_erasure": lambda t, w: {"token": t.erasure_token},
    # The customer area's records are always customer A's: A reaches them, B must not.
    "customer.complaint": lambda t, w: {"complaint_id": w.complaint_of_a.id},
    "customer.complaint_reply": lambda t, w: {"complaint_id": w.complaint_of_a.id},
    "customer.change_consent": lambda t, w: {"purpose_id": w.purpose.id},
    # The staff workspace.
    "staff.customer_profile": lambda t, w: {"customer_id": t.customer.id},
    "staff.customer_timeline": lambda t, w: {"customer_id": t.customer.id},
    "staff.edit_customer": lambda t, w: {"customer_id": t.customer.id},
    "staff.open_complaint": lambda t, w: {"customer_id": t.customer.id},
    "staff.record_consent": lambda t, w: {"customer_id": t.customer.id},
    "staff.add_purchase": lambda t, w: {"customer_id": t.customer.id},
    "staff.add_interaction": lambda t, w: {"customer_id": t.customer.id},
    "staff.invite_customer": lambda t, w: {"customer_id": t.customer.id},
    "staff.add_identifier": lambda t, w: {"customer_id": t.customer.id},
    "staff.masked_identifier": lambda t, w: {
        "customer_id": t.customer.id,
        "identifier_id": t.identifier.id,
    },
    "staff.reveal_identifier": lambda t, w: {
        "customer_id": t.customer.id,
        "identifier_id": t.identifier.id,
    },
    "staff.remove_identifier": lambda t, w: {
        "customer_id": t.customer.id,
        "identifier_id": t.spare_identifier.id,
    },
    "staff.record_privacy_request": lambda t, w: {"customer_id": t.customer.id},
    "staff.close_privacy_request": lambda t, w: {
        "customer_id": t.customer.id,
        "request_id": t.privacy_request.id,
    },
    "staff.merge_customers": lambda t, w: {
        "survivor_id": t.survivor.id,
        "duplicate_id": t.duplicate.id,
    },
    "staff.undo_merge": lambda t, w: {"merge_id": t.merge_record.id},
    "staff.complaint": lambda t, w: {"complaint_id": t.complaint.id},
    "staff.complaint_assign": lambda t, w: {"complaint_id": t.complaint.id},
    "staff.complaint_note": lambda t, w: {"complaint_id": t.complaint.id},
    "staff.complaint_reply": lambda t, w: {"complaint_id": t.complaint.id},
    "staff.complaint_resolution": lambda t, w: {"complaint_id": t.complaint.id},
    "staff.complaint_status": lambda t, w: {"complaint_id": t.complaint.id},
    # Owner pages.
    "owner.customer_data_report": lambda t, w: {"customer_id": t.customer.id},
    "owner.consent_purpose": lambda t, w: {"purpose_id": t.purpose.id},
    "owner.set_consent_purpose_active": lambda t, w: {"purpose_id": t.purpose_to_toggle.id},
    "owner.import_page": lambda t, w: {"import_id": t.import_checked.id},
    "owner.import_progress": lambda t, w: {"import_id": t.import_checked.id},
    "owner.import_problems_csv": lambda t, w: {"import_id": t.import_checked.id},
    "owner.start_import": lambda t, w: {"import_id": t.import_checked.id},
    "owner.import_mapping": lambda t, w: {"import_id": t.import_uploaded.id},
    "owner.save_import_mapping": lambda t, w: {"import_id": t.import_uploaded.id},
    "owner.cancel_import": lambda t, w: {"import_id": t.import_to_cancel.id},
    "owner.undo_import": lambda t, w: {"import_id": t.import_to_undo.id},
    "owner.delete_saved_mapping": lambda t, w: {"saved_id": t.saved_mapping.id},
    "owner.job": lambda t, w: {"job_id": t.export_job.id},
    "owner.download_job": lambda t, w: {"job_id": t.export_job.id},
    "owner.breach_report": lambda t, w: {"breach_id": t.breach.id},
    "owner.breach_report_csv": lambda t, w: {"breach_id": t.breach.id},
    "owner.breach_authority_notified": lambda t, w: {"breach_id": t.breach.id},
    # Automations: each visitor's own birthday rule, made on first use, to view, edit, pause
    # or resume, and run (no customer has a birthday on file: nothing is sent).
    **{
        endpoint: lambda t, w: {
            "automation_id": Automation.get_or_create(
                name=f"Birthdays {t.purpose.code}",
                defaults={"kind": "birthday", "purpose": t.purpose.id},
            )[0].id
        }
        for endpoint in (
            "owner.automation",
            "owner.automation_active",
            "owner.automation_edit",
            "owner.automation_run",
        )
    },
    # Campaigns: a draft to view, edit, schedule, send (nobody consents: nothing is sent) and
    # resume (not stopped: refused); one to delete and a scheduled one to cancel.
    "owner.campaign": lambda t, w: {"campaign_id": t.campaign.id},
    "owner.campaign_edit": lambda t, w: {"campaign_id": t.campaign.id},
    "owner.campaign_schedule": lambda t, w: {"campaign_id": t.campaign.id},
    "owner.campaign_send": lambda t, w: {"campaign_id": t.campaign.id},
    "owner.campaign_resume": lambda t, w: {"campaign_id": t.campaign.id},
    "owner.campaign_delete": lambda t, w: {"campaign_id": t.campaign_to_delete.id},
    "owner.campaign_cancel": lambda t, w: {"campaign_id": t.campaign_to_cancel.id},
    "owner.erasure_request": lambda t, w: {"request_id": t.erasure_pending.id},
    "owner.execute_erasure": lambda t, w: {"request_id": t.erasure_to_execute.id},
    "owner.erasure_receipt": lambda t, w: {"request_id": t.erasure_completed.id},
    # An owner acts on a colleague's account, never on the visitor's own.
    "owner.deactivate_staff": lambda t, w: {"account_id": t.colleague.id},
    "owner.reactivate_staff": lambda t, w: {"account_id": t.colleague.id},
    "owner.change_staff_role": lambda t, w: {"account_id": t.colleague.id},
    "owner.reset_staff_password": lambda t, w: {"account_id": t.colleague.id},
    "owner.reset_staff_two_factor": lambda t, w: {"account_id": t.colleague.id},
}

# POSTs carry the CSRF token and nothing else, except where the route answers an empty form
# with a bare 400 that would hide who reached it: there, the smallest valid form.
FORMS = {
    "customer.change_consent": lambda t, w: {"granted": "1", "version": "1"},
    "owner.change_staff_role": lambda t, w: {"role": "staff"},
    "owner.automation_active": lambda t, w: {"active": "1"},
}

# POSTs that end (or replace) the session of these visitors go through a browser of their own.
# (Owners sign in with a one-time code; a fourth sign-in within 30 seconds waits for the next.)
SESSION_ENDING = {
    ("auth.sign_out", "POST"): set(VISITORS),
    ("customer.sign_out", "POST"): {"customer_a", "customer_b"},
    ("customer.follow_link", "POST"): set(VISITORS),  # signs the browser in as the link's customer
}

# The page each visitor's browser reads its CSRF token from (a form it is shown).
TOKEN_PAGES = {
    "anonymous": "/sign-in",
    "customer_a": "/me/consent",
    "customer_b": "/me/consent",
    "staff": "/customers/new",
    "owner": "/customers/new",
}

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
LIMITS = {
    # Many browsers sign in from one address here; the limits are tested in test_auth.py and
    # test_customer_access.py.
    "SIGN_IN_LIMIT_PER_ADDRESS": "1000 per minute",
    "SIGN_IN_LIMIT_PER_ACCOUNT": "1000 per minute",
    "CUSTOMER_LINK_LIMIT_PER_ADDRESS": "1000 per minute",
    "CUSTOMER_LINK_LIMIT_PER_EMAIL": "1000 per minute",
}

IMPORT_HEADERS = ["First name", "Last name", "E-mail"]


def _engine_database_url(engine: str, request, tmp_path) -> str:
    """As conftest's database_url, for a module-wide app: a migrated copy or a truncated base."""
    if engine == "sqlite":
        path = tmp_path / "kartoteka.db"
        shutil.copy(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("migrated_postgresql")
    _truncate_postgresql(url)
    return url


def _shared_records(owner) -> SimpleNamespace:
    """Customers A and B, A's complaint and purchase, and a purpose either may consent to."""
    a = make_customer("Agnieszka", "Wróblewska", email="agnieszka.a@example.com")
    b = make_customer("Bartłomiej", "Zawadzki", email="bartlomiej.b@example.com")
    complaint = complaints.open_complaint(
        a,
        subject="Zepsuty czajnik od Agnieszki",
        description="The kettle leaks.",
        channel="email",
        category="product",
        severity="medium",
        staff_id=owner.id,
    )
    history.record_purchase(
        a, [("Czajnik", Decimal("1"), Decimal("129.00"))], purchased_at=utcnow()
    )
    purpose = consent.create_purpose("email_marketing", EMAIL_TEXTS)
    return SimpleNamespace(
        customer_a=a,
        customer_b=b,
        complaint_of_a=complaint,
        purpose=purpose,
        # What either customer must never see of the other.
        markers={
            "customer_a": ("Agnieszka", "agnieszka.a@example.com", "Zepsuty czajnik"),
            "customer_b": ("Bartłomiej", "bartlomiej.b@example.com"),
        },
    )


def _visitor_set(visitor: str, owner) -> SimpleNamespace:
    """The records one visitor's requests name, so that nothing one visitor does (a merge, an
    erasure, a used link) decides what another visitor gets."""
    n = VISITORS.index(visitor)
    t = SimpleNamespace()

    def person(given: str):
        return make_customer(given, f"Test{n}", email=f"{given.lower()}.{visitor}@example.com")

    t.colleague = create_staff(f"Colleague {n}", f"colleague.{visitor}@example.com", PASSWORD)
    t.customer = person("Cyryl")
    t.identifier = identifiers.add(
        t.customer.id, "national_id", "44051401359", owner.id, region="PL"
    )
    t.spare_identifier = identifiers.add(t.customer.id, "tax_number", "526-000-12-46", owner.id)
    t.privacy_request = privacy_requests.open_request(t.customer.id, "access", staff_id=owner.id)
    t.complaint = complaints.open_complaint(
        t.customer,
        subject="Late delivery",
        description="",
        channel="phone",
        category="delivery",
        severity="low",
        staff_id=owner.id,
    )
    # A closed complaint whose closing e-mail carries a rating link.
    rated = complaints.open_complaint(
        t.customer,
        subject="Wrong size",
        description="",
        channel="phone",
        category="product",
        severity="low",
        staff_id=owner.id,
    )
    complaints.change_status(rated, "resolved", staff_id=owner.id)
    complaints.change_status(rated, "closed", staff_id=owner.id)
    t.rating_token = complaints.rating_token(rated)
    t.link_token = customer_links.create_link(t.customer)
    # A marketing e-mail's one-click unsubscribe link.
    newsletter = consent.create_purpose(f"newsletter_{n}", EMAIL_TEXTS)
    marketing = OutgoingMessage.create(
        customer=t.customer, purpose=newsletter, occasion=f"campaign:guards-{n}", status="sent"
    )
    t.unsubscribe_token = signed_links.sign(outbox.UNSUBSCRIBE_SALT, marketing.id)

    t.survivor, t.duplicate = person("Dorota"), person("Dorota")
    t.merge_record = merge.merge(person("Edyta"), person("Edyta"), set(), owner.id)

    confirming = person("Feliks")
    waiting = erasure.request_erasure(confirming.id, made_via="self_service")
    t.erasure_token = erasure.confirmation_token(waiting)
    t.erasure_pending = erasure.request_erasure(person("Gustaw").id, staff_id=owner.id)
    t.erasure_to_execute = erasure.request_erasure(person("Henryk").id, staff_id=owner.id)
    t.erasure_completed = erasure.request_erasure(person("Irena").id, staff_id=owner.id)
    erasure.execute(t.erasure_completed, owner.id)
    assert ErasureRequest.get_by_id(t.erasure_completed.id).status == "completed"

    t.purpose = consent.create_purpose(f"letters_{visitor}", SMS_TEXTS)
    t.purpose_to_toggle = consent.create_purpose(f"calls_{visitor}", SMS_TEXTS)

    def campaign(name: str):
        return campaigns.save_draft(
            None,
            name=f"{name} {visitor}",
            purpose_id=t.purpose.id,
            filters=Filters(),
            segment_id=None,
            content=dump({"en": Text("News", "Hello {first_name}")}),
            staff_id=owner.id,
        )

    t.campaign, t.campaign_to_delete = campaign("Spring"), campaign("Old draft")
    t.campaign_to_cancel = campaigns.schedule(
        campaign("Later"), utcnow() + timedelta(days=1), owner.id
    )

    t.import_uploaded = _upload(owner, "mapping")
    t.import_to_cancel = _upload(owner, "cancel")
    t.import_to_undo = _upload(owner, "undo")
    t.import_checked = _upload(owner, "checked")
    importer.start_check(t.import_checked, "en", owner.id)  # runs inline (JOBS_IMMEDIATE)
    assert ImportJob.get_by_id(t.import_checked.id).status == "checked"
    t.saved_mapping = importer.save_mapping(
        f"Mapping {visitor}", suggest(IMPORT_HEADERS, None), owner.id
    )

    t.export_job = jobs.start(
        "customer_export",
        language="en",
        params=exports.job_params(Filters(), file_format="csv"),
        created_by=owner.id,
    )
    assert ExportJob.get_by_id(t.export_job.id).status == "done"
    now = utcnow()
    t.breach = breaches.record(
        discovered_at=now,
        description="A laptop left on a train",
        window_start=now - timedelta(days=1),
        window_end=now,
        staff_account_id=owner.id,
        recorded_by=owner.id,
    )
    return t


def _upload(owner, name: str):
    rows = [{"First name": "Jan", "Last name": name, "E-mail": f"jan.{name}@example.com"}]
    data = csv_bytes(IMPORT_HEADERS, rows)
    return importer.receive(io.BytesIO(data), f"{name}.csv", owner.id)


class World:
    """One app and database for an engine: the accounts, the records, a browser per visitor."""

    def __init__(self, app):
        self.app = app
        with app.test_request_context("/"):
            self.owner = create_staff("Olga Owner", "owner@example.com", PASSWORD, role="owner")
            enrol_two_factor(app, self.owner)
            self.staff = create_staff("Sam Staff", "staff@example.com", PASSWORD, role="staff")
            # A commit costs PostgreSQL a disk flush: build the records in one transaction.
            # (SQLite builds them as they come: its erasure checkpoints the WAL after each.)
            with db.atomic() if is_postgresql(db) else nullcontext():
                self.shared = _shared_records(self.owner)
                self.sets = {visitor: _visitor_set(visitor, self.owner) for visitor in VISITORS}
        self.browsers = {visitor: self.new_browser(visitor) for visitor in VISITORS}

    def new_browser(self, visitor: str):
        """A fresh client signed in as the visitor, and the CSRF token its page gave it."""
        client = self.app.test_client()
        if visitor == "staff":
            assert sign_in(client, self.staff).status_code == 303
        elif visitor == "owner":
            assert sign_in(client, self.owner).status_code == 303
        elif visitor.startswith("customer_"):
            sign_in_customer(client, getattr(self.shared, visitor))
        return client, csrf_token_from(client, TOKEN_PAGES[visitor])

    def path(self, endpoint: str, visitor: str) -> str:
        arguments = ARGUMENTS.get(endpoint, lambda t, w: {})(self.sets[visitor], self.shared)
        with self.app.test_request_context("/"):
            return url_for(endpoint, **arguments)

    def visit(self, visitor: str, endpoint: str, method: str):
        """What the visitor's browser gets from the route (POSTs with a valid CSRF token)."""
        if visitor in SESSION_ENDING.get((endpoint, method), ()):
            client, token = self.new_browser(visitor)
        else:
            client, token = self.browsers[visitor]
        path = self.path(endpoint, visitor)
        form = FORMS.get(endpoint, lambda t, w: {})(self.sets[visitor], self.shared)
        data = None if method == "GET" else {"csrf_token": token, **form}
        response = client.open(path, method=method, data=data)
        response.get_data()  # read a streamed file in full, then let it go
        response.close()
        return response


def outcome_of(response) -> str:
    code = response.status_code
    if 200 <= code < 300 or code == 422:
        return OK
    if code in (301, 302, 303, 307, 308):
        target = urlsplit(response.headers["Location"]).path
        # The guards answer 302; a 303 to a sign-in page is a sign-out doing its job.
        if code == 302 and target == "/sign-in":
            return SIGN_IN
        if code == 302 and target == "/me/sign-in":
            return ME_SIGN_IN
        return DONE
    if code == 403:
        return FORBIDDEN
    if code == 404:
        return NOT_FOUND
    return f"HTTP {code}"


def _guard_cases() -> list:
    """(endpoint, method, visitor) for every table entry: GETs first, so that no POST has
    changed a record before a page showing it is visited."""
    ordered = sorted(GUARDS, key=lambda pair: (pair[1] != "GET", pair))
    return [
        pytest.param(endpoint, method, visitor, id=f"{endpoint}-{method}-{visitor}")
        for endpoint, method in ordered
        for visitor in VISITORS
    ]


def _csrf_cases() -> list:
    """Every state-changing entry, for the signed-in owner; for customer A on the customer
    area's routes; for an anonymous visitor where one reaches the route."""
    cases = []
    for (endpoint, method), guard in GUARDS.items():
        if method not in STATE_CHANGING:
            continue
        visitors = ["owner"]
        if endpoint.startswith("customer."):
            visitors.append("customer_a")
        if guard.anonymous in (OK, DONE):
            visitors.append("anonymous")
        cases += [
            pytest.param(endpoint, method, visitor, id=f"{endpoint}-{method}-{visitor}")
            for visitor in visitors
        ]
    return cases


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):
    """conftest's engines, for the whole module: one app and one set of records per engine."""
    return request.param


@pytest.fixture(scope="module")
def world(engine, request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp(f"guards-{engine}")
    url = _engine_database_url(engine, request, tmp_path)
    app = create_app(base_config(url) | LIMITS, instance_path=str(tmp_path / "instance"))
    yield World(app)
    db.close_all()


def _rules(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


# --- The table and the URL map ------------------------------------------------------------------


def test_every_route_has_an_entry_in_the_table(world):
    missing = sorted(_rules(world.app) - set(GUARDS))
    assert not missing, "routes without an entry in GUARDS: " + ", ".join(
        f"{endpoint} {method}" for endpoint, method in missing
    )


def test_every_entry_in_the_table_is_a_route(world):
    gone = sorted(set(GUARDS) - _rules(world.app))
    assert not gone, "GUARDS entries for routes no longer in the URL map: " + ", ".join(
        f"{endpoint} {method}" for endpoint, method in gone
    )


def test_every_route_with_arguments_has_them_in_the_test(world):
    endpoints = {rule.endpoint for rule in world.app.url_map.iter_rules()}
    needing = {rule.endpoint for rule in world.app.url_map.iter_rules() if rule.arguments}
    assert not needing - set(ARGUMENTS), f"no ARGUMENTS for {sorted(needing - set(ARGUMENTS))}"
    named = set(ARGUMENTS) | set(FORMS)
    named |= {endpoint for endpoint, _method in [*SESSION_ENDING, *CSRF_EXEMPT]}
    assert not named - endpoints, (
        f"entries for endpoints that are gone: {sorted(named - endpoints)}"
    )


# --- Who reaches what ---------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "method", "visitor"), _guard_cases())
def test_route_answers_each_visitor_as_the_table_says(world, endpoint, method, visitor):
    assert (endpoint, method) in _rules(world.app), f"{endpoint} {method} is not in the URL map"
    response = world.visit(visitor, endpoint, method)
    expected = getattr(GUARDS[(endpoint, method)], visitor)
    got = outcome_of(response)
    assert got == expected, (
        f"{visitor} got {got} (HTTP {response.status_code}, "
        f"Location {response.headers.get('Location')}) from {endpoint} {method}, "
        f"the table says {expected}"
    )
    if visitor in ("anonymous", "customer_a", "customer_b") and response.status_code < 300:
        body = response.get_data()
        for customer, markers in world.shared.markers.items():
            if customer != visitor:
                leaked = [marker for marker in markers if marker.encode() in body]
                assert not leaked, f"{visitor} sees {customer}'s {leaked} on {endpoint} {method}"


def test_each_customer_sees_their_own_data_on_my_data(world):
    """The markers the test above looks for are real data the area shows, to its owner."""
    for visitor in ("customer_a", "customer_b"):
        client, _token = world.browsers[visitor]
        page = client.get("/me/").get_data(as_text=True)
        missing = [marker for marker in world.shared.markers[visitor] if marker not in page]
        assert not missing, f"{visitor}'s My data does not show {missing}"


# --- CSRF on every change -----------------------------------------------------------------------


def _snapshot() -> dict[str, str]:
    """Every table's rows, digested: what a refused request must leave exactly as it was."""
    tables = sorted(db.get_tables())
    if is_postgresql(db):
        # One round trip: each table's rows as text, digested by the server.
        query = " UNION ALL ".join(
            f"SELECT '{table}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
            f' FROM "{table}" r'
            for table in tables
        )
        digests = dict(db.execute_sql(query).fetchall())
    else:
        digests = {}
        for table in tables:
            rows = db.execute_sql(f'SELECT * FROM "{table}"').fetchall()
            digests[table] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    db.close()
    return digests


def _still_signed_in(world, visitor: str) -> bool:
    client, _token = world.browsers[visitor]
    page = {"owner": "/customers/new", "customer_a": "/me/consent"}.get(visitor)
    return page is None or client.get(page).status_code == 200


@pytest.mark.parametrize(("endpoint", "method", "visitor"), _csrf_cases())
def test_change_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    world, endpoint, method, visitor
):
    client, token = world.browsers[visitor]
    # A real token, but for another browser's session.
    _other_client, others_token = world.browsers["owner" if visitor != "owner" else "anonymous"]
    assert others_token != token
    path = world.path(endpoint, visitor)
    form = FORMS.get(endpoint, lambda t, w: {})(world.sets[visitor], world.shared)
    before = _snapshot()
    answers = [
        client.open(path, method=method, data=form),
        client.open(path, method=method, data={**form, "csrf_token": others_token}),
        client.open(path, method=method, data={**form, "csrf_token": token[:-4] + "AAAA"}),
    ]
    after = _snapshot()
    if (endpoint, method) in CSRF_EXEMPT:
        assert all(answer.status_code != 400 for answer in answers)
        return
    changed = [table for table in before if before[table] != after.get(table)]
    assert not changed, f"{endpoint} {method} without a valid token changed {changed}"
    for answer in answers:
        assert answer.status_code == 400, f"{endpoint} {method}: HTTP {answer.status_code}"
        assert "The form has expired" in answer.get_data(as_text=True)
    assert _still_signed_in(world, visitor), f"{endpoint} {method} signed {visitor} out"
