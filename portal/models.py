"""Peewee models: the data Kartoteka keeps (SPEC section 2) and query scopes over it.

Models hold data only. Rules about that data (consent, audit chaining, erasure, search
folding) live in the domain modules that use these models.
"""

from datetime import UTC, datetime
from decimal import Decimal

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)

from .extensions import db


def utcnow() -> datetime:
    """Naive UTC timestamp: every datetime column stores UTC; pages convert to local time."""
    return datetime.now(UTC).replace(tzinfo=None)


MONEY = {"max_digits": 14, "decimal_places": 2, "auto_round": True}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


# --- Business settings -----------------------------------------------------------------


class Setting(BaseModel):
    """One business setting (currency, retention periods, response times...) as JSON text."""

    key = CharField(primary_key=True, max_length=100)
    value = TextField()
    updated_at = DateTimeField(default=utcnow)


class Location(BaseModel):
    """A shop location of the business."""

    name = CharField(max_length=200)
    address = TextField(default="")
    active = BooleanField(default=True)


# --- People who work here --------------------------------------------------------------


class StaffAccount(BaseModel):
    ROLES = ("owner", "staff")

    name = CharField(max_length=200)
    email = CharField(max_length=320, unique=True)  # stored lower-cased
    role = CharField(max_length=10, default="staff")
    password_hash = CharField(max_length=255)
    active = BooleanField(default=True)
    preferred_language = CharField(max_length=8, null=True)
    created_at = DateTimeField(default=utcnow)
    last_sign_in_at = DateTimeField(null=True)
    # Two-factor sign-in (portal/two_factor.py): the TOTP secret sealed with ENCRYPTION_KEYS,
    # stored when set-up starts and in use once confirmed (totp_enabled_at).
    totp_secret = BlobField(null=True)
    totp_key_id = CharField(max_length=32, default="")
    totp_enabled_at = DateTimeField(null=True)
    totp_last_step = IntegerField(default=0)  # the last time step used: a code works once

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def needs_two_factor_setup(self) -> bool:
        """Owners can export the whole base: they sign in with a second factor."""
        return self.is_owner and not self.has_two_factor

    # Flask-Login's user protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def by_email(cls, email: str):
        return cls.select().where(cls.email == email.strip().lower())


class RecoveryCode(BaseModel):
    """A single-use code that signs an owner in when their authenticator is lost."""

    staff = ForeignKeyField(StaffAccount, backref="recovery_codes", on_delete="CASCADE")
    code_hash = CharField(max_length=64)  # SHA-256: the codes are random, 50 bits each
    used_at = DateTimeField(null=True)


# --- Customers and what is known about them --------------------------------------------


class ImportJob(BaseModel):
    """An upload of a customer file, run in the background, all-or-nothing, undoable.

    uploaded → checking → checked (mapping, preview and problems known) → importing →
    done (→ undone), or failed / cancelled. portal/imports/importer.py moves it along.
    The uploaded file lives in `file_path` until the import ends; afterwards only its name,
    size and checksum stay.
    """

    STATUSES = (
        "uploaded",
        "checking",
        "checked",
        "importing",
        "done",
        "failed",
        "cancelled",
        "undone",
    )

    created_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    filename = CharField(max_length=255)
    file_format = CharField(max_length=10)  # csv, xlsx
    file_path = CharField(max_length=500, default="")
    file_size = IntegerField(default=0)
    checksum = CharField(max_length=64, default="")  # SHA-256 of the uploaded bytes
    source = CharField(max_length=30, default="spreadsheet")  # mapping.SOURCES
    status = CharField(max_length=20, default="uploaded", index=True)
    # The background job (ExportJob row) checking or importing the file, for its progress.
    job_id = IntegerField(null=True)
    error = TextField(default="")
    mapping = TextField(default="{}")
    options = TextField(default="{}")
    total_rows = IntegerField(default=0)
    processed_rows = IntegerField(default=0)
    created_count = IntegerField(default=0)
    updated_count = IntegerField(default=0)
    skipped_count = IntegerField(default=0)
    report = TextField(default="[]")
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    undone_at = DateTimeField(null=True)


class Customer(BaseModel):
    """A person or company contact; a lead until their first purchase (the kind is derived)."""

    CHANNELS = ("email", "phone", "sms", "post", "none")
    SOURCES = ("in_store", "web_form", "self_service", "import", "vendor_list", "other")

    given_name = CharField(max_length=200, default="")
    family_name = CharField(max_length=200, default="")
    # 'family_first' for names written family name first (Chinese, Hungarian...)
    name_order = CharField(max_length=12, default="given_first")
    display_name = CharField(max_length=410)
    company = CharField(max_length=200, default="")
    preferred_channel = CharField(max_length=10, default="email")
    preferred_language = CharField(max_length=8, default="en")
    birth_date = DateField(null=True)
    gender = CharField(max_length=60, default="")
    note = TextField(default="")
    source = CharField(max_length=20, default="in_store")
    source_detail = CharField(max_length=300, default="")
    external = BooleanField(default=False)  # came from an outside list, not yet confirmed
    confirmed_at = DateTimeField(null=True)
    import_job = ForeignKeyField(ImportJob, null=True, on_delete="SET NULL", backref="customers")
    tier = CharField(max_length=2, default="", index=True)
    tier_manual = BooleanField(default=False)
    rfm_score = CharField(max_length=3, default="")
    # Denormalised purchase figures, kept in step by the purchase service, so lists can
    # filter and sort by them at a million customers without aggregating.
    lifetime_value = DecimalField(default=Decimal("0"), **MONEY)
    purchase_count = IntegerField(default=0)
    last_purchase_at = DateTimeField(null=True, index=True)
    # portal/forecast.py: when this customer's own rhythm says they buy next, and whether that
    # date has slipped so far that they are drifting away.
    expected_next_purchase_at = DateTimeField(null=True)
    churn_risk = BooleanField(default=False, index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    last_activity_at = DateTimeField(default=utcnow)
    erased_at = DateTimeField(null=True)
    # Set when this record was merged into another; it leaves the workspace until undone.
    # Not indexed: nearly every row is NULL, and an index on it lured SQLite into scanning
    # it for "merged_into IS NULL" instead of walking the list's sort index.
    merged_into = ForeignKeyField(
        "self", null=True, on_delete="SET NULL", backref="merged_from", index=False
    )
    # Folded tokens for search (portal/search.py); the search index follows this column.
    search_tokens = TextField(default="")

    class Meta:
        # Each list sort ends on the id, so keyset pages are a range scan of one index.
        indexes = (
            (("display_name", "id"), False),
            (("created_at", "id"), False),
            (("lifetime_value", "id"), False),
            (("last_activity_at", "id"), False),
        )

    @property
    def kind(self) -> str:
        return "customer" if self.purchase_count else "lead"

    @classmethod
    def active(cls):
        return cls.select().where(cls.erased_at.is_null() & cls.merged_into.is_null())


class ContactPoint(BaseModel):
    """An e-mail address or phone number of a customer."""

    KINDS = ("email", "phone")

    customer = ForeignKeyField(Customer, backref="contact_points", on_delete="CASCADE")
    kind = CharField(max_length=10)
    value = CharField(max_length=320)  # as entered / displayed
    normalized = CharField(max_length=320)  # lower-cased e-mail, or E.164 phone
    label = CharField(max_length=40, default="")
    is_primary = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "normalized"), False),)


class ExternalReference(BaseModel):
    """A customer's id in another system (Shopify, HubSpot…), so a re-import finds them."""

    customer = ForeignKeyField(Customer, backref="external_references", on_delete="CASCADE")
    system = CharField(max_length=30)  # shopify, woocommerce, hubspot, spreadsheet
    value = CharField(max_length=100)

    class Meta:
        indexes = ((("system", "value"), True),)


class Address(BaseModel):
    customer = ForeignKeyField(Customer, backref="addresses", on_delete="CASCADE")
    line1 = CharField(max_length=300, default="")
    line2 = CharField(max_length=300, default="")
    postal_code = CharField(max_length=20, default="")
    city = CharField(max_length=120, default="", index=True)
    region = CharField(max_length=120, default="")
    country = CharField(max_length=2, default="")  # ISO 3166-1 alpha-2
    is_primary = BooleanField(default=True)


class Tag(BaseModel):
    name = CharField(max_length=60, unique=True)


class CustomerTag(BaseModel):
    customer = ForeignKeyField(Customer, backref="customer_tags", on_delete="CASCADE")
    tag = ForeignKeyField(Tag, backref="customer_tags", on_delete="CASCADE")

    class Meta:
        indexes = ((("customer", "tag"), True), (("tag", "customer"), False))


class SensitiveIdentifier(BaseModel):
    """A national ID or tax number, encrypted with a key kept outside the database."""

    KINDS = ("national_id", "tax_number")

    customer = ForeignKeyField(Customer, backref="identifiers", on_delete="CASCADE")
    kind = CharField(max_length=20)
    ciphertext = BlobField()
    key_id = CharField(max_length=32)  # which configured key encrypted it, for rotation
    last_four = CharField(max_length=4)  # enough to show it masked: •••• 4821
    created_at = DateTimeField(default=utcnow)


# --- History ---------------------------------------------------------------------------


class Purchase(BaseModel):
    CHANNELS = ("store", "online", "phone")

    customer = ForeignKeyField(Customer, backref="purchases", on_delete="RESTRICT")
    location = ForeignKeyField(Location, null=True, on_delete="SET NULL")
    purchased_at = DateTimeField(default=utcnow)
    receipt_number = CharField(max_length=60, default="", index=True)
    total = DecimalField(**MONEY)
    refunded = DecimalField(default=Decimal("0"), **MONEY)
    currency = CharField(max_length=3)
    channel = CharField(max_length=10, default="store")
    recorded_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    # Brought in by an import (an orders export); undoing the import removes it.
    import_job = ForeignKeyField(ImportJob, null=True, on_delete="SET NULL", index=False)

    class Meta:
        indexes = (
            (("customer", "purchased_at"), False),
            (("purchased_at",), False),
            (("import_job",), False),
        )


class PurchaseLine(BaseModel):
    purchase = ForeignKeyField(Purchase, backref="lines", on_delete="CASCADE")
    product = CharField(max_length=300)
    quantity = DecimalField(max_digits=12, decimal_places=3, auto_round=True)
    unit_price = DecimalField(**MONEY)
    line_total = DecimalField(**MONEY)


class Refund(BaseModel):
    """A return or refund against a purchase."""

    purchase = ForeignKeyField(Purchase, backref="refunds", on_delete="CASCADE")
    refunded_at = DateTimeField(default=utcnow)
    amount = DecimalField(**MONEY)
    reason = TextField(default="")
    recorded_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")


class Interaction(BaseModel):
    CHANNELS = ("call", "email", "chat", "visit", "note")
    DIRECTIONS = ("in", "out")

    customer = ForeignKeyField(Customer, backref="interactions", on_delete="CASCADE")
    occurred_at = DateTimeField(default=utcnow)
    direction = CharField(max_length=3, default="in")
    channel = CharField(max_length=10, default="note")
    summary = TextField()
    staff = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("customer", "occurred_at"), False),)


class Complaint(BaseModel):
    STATUSES = ("new", "in_progress", "waiting_for_customer", "resolved", "closed")
    SEVERITIES = ("low", "medium", "high", "critical")

    customer = ForeignKeyField(Customer, backref="complaints", on_delete="CASCADE")
    location = ForeignKeyField(Location, null=True, on_delete="SET NULL")
    subject = CharField(max_length=300)
    description = TextField(default="")
    channel = CharField(max_length=20, default="in_store")
    category = CharField(max_length=60, default="other")
    severity = CharField(max_length=10, default="medium")
    status = CharField(max_length=24, default="new")
    assignee = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL", backref="complaints")
    opened_at = DateTimeField(default=utcnow)
    first_response_due_at = DateTimeField(null=True)
    due_at = DateTimeField(null=True)
    first_responded_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    resolution = TextField(default="")
    redress = CharField(max_length=20, default="")
    redress_value = DecimalField(null=True, **MONEY)
    satisfaction = SmallIntegerField(null=True)
    satisfaction_comment = TextField(default="")
    updated_at = DateTimeField(default=utcnow)
    # Set while waiting for the customer: the due dates move on by the business hours paused.
    paused_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "due_at"), False), (("customer", "opened_at"), False))


class ComplaintMessage(BaseModel):
    """A reply (the customer sees it) or an internal note (never leaves the staff workspace)."""

    KINDS = ("reply", "internal_note")

    complaint = ForeignKeyField(Complaint, backref="messages", on_delete="CASCADE")
    kind = CharField(max_length=16, default="reply")
    author_type = CharField(max_length=10, default="staff")  # staff, customer, system
    author_staff = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    body = TextField()
    created_at = DateTimeField(default=utcnow)


class ComplaintStatusChange(BaseModel):
    complaint = ForeignKeyField(Complaint, backref="status_changes", on_delete="CASCADE")
    from_status = CharField(max_length=24)
    to_status = CharField(max_length=24)
    changed_by_type = CharField(max_length=10, default="staff")
    changed_by_staff = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    changed_at = DateTimeField(default=utcnow)


# --- Consent ---------------------------------------------------------------------------


class ConsentPurpose(BaseModel):
    """What consent is asked for (e-mail marketing, SMS marketing, profiling...)."""

    code = CharField(max_length=60, unique=True)
    active = BooleanField(default=True)
    position = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)


class ConsentWording(BaseModel):
    """The title and text of a purpose in one language; new wording means a new version."""

    purpose = ForeignKeyField(ConsentPurpose, backref="wordings", on_delete="RESTRICT")
    version = IntegerField()
    language = CharField(max_length=8)
    title = CharField(max_length=200)
    text = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("purpose", "version", "language"), True),)


class ConsentEvent(BaseModel):
    """One grant or withdrawal. Append-only: current consent is the latest event per purpose."""

    CHANNELS = ("paper_form", "verbal", "web_form", "self_service", "import", "unsubscribe_link")

    customer = ForeignKeyField(Customer, backref="consent_events", on_delete="RESTRICT")
    purpose = ForeignKeyField(ConsentPurpose, backref="events", on_delete="RESTRICT")
    wording_version = IntegerField()
    granted = BooleanField()
    channel = CharField(max_length=20)
    recorded_by_type = CharField(max_length=10, default="staff")  # staff, customer, system
    recorded_by_staff = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    evidence = TextField(default="")
    occurred_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("customer", "purpose", "occurred_at"), False),
            (("purpose", "occurred_at"), False),
        )


# --- Accountability --------------------------------------------------------------------


class AuditEvent(BaseModel):
    """Who did what to which record, when, from where. Append-only, hash-chained, no PII."""

    id = AutoField()
    occurred_at = DateTimeField(default=utcnow, index=True)
    actor_type = CharField(max_length=10)  # staff, customer, system, anonymous
    actor_id = IntegerField(null=True)
    action = CharField(max_length=60)
    target_type = CharField(max_length=30, default="")
    target_id = IntegerField(null=True)
    ip_address = CharField(max_length=45, default="")
    details = TextField(default="{}")  # ids and field names only
    prev_hash = CharField(max_length=64, default="")
    hash = CharField(max_length=64, default="")

    class Meta:
        # The owner's audit log filters by one of these and pages newest first (0009).
        indexes = (
            (("action", "occurred_at"), False),
            (("target_type", "target_id", "occurred_at"), False),
            (("actor_type", "actor_id", "occurred_at"), False),
        )


class ErasureRequest(BaseModel):
    STATUSES = ("awaiting_confirmation", "pending", "on_hold", "completed", "cancelled")

    # Kept as a plain id so the request outlives the customer's personal data.
    customer_id = IntegerField(index=True)
    requested_by_type = CharField(max_length=10, default="customer")
    status = CharField(max_length=24, default="awaiting_confirmation", index=True)
    requested_at = DateTimeField(default=utcnow)
    confirmed_at = DateTimeField(null=True)
    execute_after = DateTimeField(null=True)
    lawful_reason = TextField(default="")
    decided_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    completed_at = DateTimeField(null=True)
    # Parts the owner keeps for a lawful reason (portal/erasure.py PARTS), comma-separated.
    kept_parts = CharField(max_length=200, default="")


class PrivacyRequest(BaseModel):
    """An access, correction or erasure request, tracked against its legal deadline."""

    KINDS = ("access", "correction", "erasure")
    STATUSES = ("open", "completed", "refused")

    customer = ForeignKeyField(Customer, backref="privacy_requests", on_delete="RESTRICT")
    kind = CharField(max_length=12)
    made_via = CharField(
        max_length=12, default="staff"
    )  # staff (on the customer's behalf), self_service
    recorded_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    received_at = DateTimeField(default=utcnow)
    due_at = DateTimeField(index=True)
    status = CharField(max_length=10, default="open", index=True)
    closed_at = DateTimeField(null=True)
    closed_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at < (now or utcnow())


class ExportJob(BaseModel):
    """A generated file (CSV, XLSX, PDF) for an owner or a customer; erasure removes its file.

    Built in the background by portal/jobs.py: queued → running (progress 0–100, step) → done
    or failed.
    """

    STATUSES = ("queued", "running", "done", "failed")

    created_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    kind = CharField(max_length=40)
    params = TextField(default="{}")
    status = CharField(max_length=20, default="queued", index=True)
    progress = SmallIntegerField(default=0)
    step = CharField(max_length=200, default="")  # what it is doing now, in its language
    language = CharField(max_length=8, default="en")
    file_path = CharField(max_length=500, default="")
    filename = CharField(max_length=200, default="")  # the name the download gets
    # Figures a web page shows beside the file (JSON), e.g. the customer-base summary's.
    result_data = TextField(default="")
    customer_id = IntegerField(null=True, index=True)
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    error = TextField(default="")

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class ImportChange(BaseModel):
    """What an import changed on a customer who was already here, so it can be undone.

    `snapshot` holds the earlier values of the fields it changed and the ids of the rows it
    added (contacts, tags, address, consent events); erasure of the customer empties it.
    Customers an import created point at it by Customer.import_job instead.
    """

    import_job = ForeignKeyField(ImportJob, backref="changes", on_delete="CASCADE", index=False)
    customer = ForeignKeyField(Customer, on_delete="CASCADE", index=False)
    snapshot = TextField(default="{}")

    class Meta:
        indexes = ((("import_job", "customer"), False), (("customer",), False))


class SavedMapping(BaseModel):
    """An owner's column mapping for a kind of file, offered again for files like it."""

    name = CharField(max_length=100, unique=True)
    source = CharField(max_length=30)
    mapping = TextField(default="{}")
    created_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class Segment(BaseModel):
    """A saved customer-list filter."""

    name = CharField(max_length=200)
    filters = TextField(default="{}")
    created_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class Campaign(BaseModel):
    """An e-mail to the customers of a list (a saved segment's or the list's filters) for one
    consent purpose: draft → scheduled (send_at) → sending → sent, or cancelled.

    `content` holds the message per language as JSON: {"en": {"subject": …, "body": …}, …}.
    Recipients are fixed when sending starts (OutgoingMessage rows); `left_out` records how many
    were left out then and why (contact_lists.Preview.left_out_counts).
    """

    STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")

    name = CharField(max_length=200)
    purpose = ForeignKeyField(ConsentPurpose, on_delete="RESTRICT")
    filters = TextField(default="{}")  # customer_list.Filters as JSON: whom it goes to
    segment = ForeignKeyField(Segment, null=True, on_delete="SET NULL")  # where they came from
    content = TextField(default="{}")
    status = CharField(max_length=12, default="draft", index=True)
    send_at = DateTimeField(null=True)
    job_id = IntegerField(null=True)
    left_out = TextField(default="{}")
    created_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)


class Automation(BaseModel):
    """An owner's rule that sends a message when an occasion comes: a birthday, N days after a
    purchase, N days without one, or N days before an event date. Tied to a consent purpose;
    only an event reminder may be a service message (no purpose, no unsubscribe link)."""

    KINDS = ("birthday", "after_purchase", "win_back", "event_reminder")

    name = CharField(max_length=200)
    kind = CharField(max_length=20)
    purpose = ForeignKeyField(ConsentPurpose, null=True, on_delete="RESTRICT")
    filters = TextField(default="{}")  # narrows who it is for, as a campaign's filters
    days = IntegerField(default=0)
    event_date = DateField(null=True)
    content = TextField(default="{}")
    active = BooleanField(default=True)
    created_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    last_run_at = DateTimeField(null=True)


class OutgoingMessage(BaseModel):
    """One e-mail to one customer from a campaign or an automation.

    queued → sending (claimed just before the SMTP conversation) → sent, failed (with a reason)
    or skipped (consent withdrawn or address gone meanwhile). `occasion` names what it is for
    ("campaign:7", "automation:3:birthday:2026"); one customer gets one message per occasion,
    which the unique index enforces. Holds no address or text: those are read when sending.
    """

    STATUSES = ("queued", "sending", "sent", "failed", "skipped")

    customer = ForeignKeyField(Customer, backref="outgoing_messages", on_delete="CASCADE")
    campaign = ForeignKeyField(Campaign, null=True, backref="messages", on_delete="CASCADE")
    automation = ForeignKeyField(Automation, null=True, backref="messages", on_delete="CASCADE")
    purpose = ForeignKeyField(ConsentPurpose, null=True, on_delete="RESTRICT")
    occasion = CharField(max_length=100)
    status = CharField(max_length=10, default="queued")
    reason = CharField(max_length=300, default="")
    language = CharField(max_length=8, default="")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True, index=True)
    unsubscribed_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("customer", "occasion"), True),
            (("campaign", "status"), False),
            (("automation", "status"), False),
        )


class CustomerMerge(BaseModel):
    """Two records merged into one, with what moved, so the merge can be undone.

    The snapshot holds the survivor's earlier field values and the ids of moved rows;
    erasure of either person must clear it.
    """

    survivor = ForeignKeyField(Customer, backref="merges", on_delete="CASCADE")
    duplicate = ForeignKeyField(Customer, on_delete="CASCADE")
    merged_by = ForeignKeyField(StaffAccount, null=True, on_delete="SET NULL")
    merged_at = DateTimeField(default=utcnow)
    undone_at = DateTimeField(null=True)
    snapshot = TextField(default="{}")


class CustomerSignInLink(BaseModel):
    """A single-use, expiring link to the self-service area; only its hash is stored."""

    customer = ForeignKeyField(Customer, backref="sign_in_links", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


# --- Breaches --------------------------------------------------------------------------


class Breach(BaseModel):
    """A suspected personal-data breach: whose account or which address, in which time window.

    The authority must hear of it within 72 hours of discovery; recording when it was told
    stops that clock.
    """

    discovered_at = DateTimeField()
    description = TextField()
    # Staff accounts are deactivated, never deleted, so the suspect account stays on record.
    staff_account = ForeignKeyField(StaffAccount, null=True, on_delete="RESTRICT")
    ip_address = CharField(max_length=45, default="")
    window_start = DateTimeField()
    window_end = DateTimeField()
    recorded_by = ForeignKeyField(
        StaffAccount, null=True, on_delete="SET NULL", backref="breaches_recorded"
    )
    recorded_at = DateTimeField(default=utcnow)
    authority_notified_at = DateTimeField(null=True)


class ErasureTombstone(BaseModel):
    """That a customer record was erased, without personal data: ids and keyed hashes only.

    The same tombstone is appended to a file outside the database, so that erasures made
    after a backup are made again when that backup is restored (portal/backups.py).
    """

    customer_id = IntegerField(index=True)
    erased_at = DateTimeField(default=utcnow)
    trigger = CharField(max_length=12, default="request")  # request, retention, restore
    # HMAC-SHA256 of the record (id and creation time) and of its normalised e-mails and phones
    record_hash = CharField(max_length=64)
    contact_hashes = TextField(default="[]")
    key_id = CharField(max_length=16)
    kept = CharField(max_length=200, default="")
    removed = TextField(default="{}")  # how many rows of each kind went, for the receipt


class SignInSession(BaseModel):
    """A signed-in browser, staff or customer. The session cookie carries a random token and
    this table its hash: signing out, a password change or deactivation deletes the row, and
    a copy of the old cookie no longer signs anyone in."""

    token_hash = CharField(max_length=64, unique=True)
    staff = ForeignKeyField(StaffAccount, null=True, on_delete="CASCADE", backref="sessions")
    customer = ForeignKeyField(Customer, null=True, on_delete="CASCADE", index=True)
    created_at = DateTimeField(default=utcnow)


ALL_MODELS = [
    Setting,
    Location,
    StaffAccount,
    ImportJob,
    Customer,
    ContactPoint,
    ExternalReference,
    Address,
    Tag,
    CustomerTag,
    SensitiveIdentifier,
    Purchase,
    PurchaseLine,
    Refund,
    Interaction,
    Complaint,
    ComplaintMessage,
    ComplaintStatusChange,
    ConsentPurpose,
    ConsentWording,
    ConsentEvent,
    AuditEvent,
    ErasureRequest,
    PrivacyRequest,
    ExportJob,
    ImportChange,
    RecoveryCode,
    SignInSession,
    SavedMapping,
    Segment,
    Campaign,
    Automation,
    OutgoingMessage,
    CustomerMerge,
    CustomerSignInLink,
    Breach,
    ErasureTombstone,
]
