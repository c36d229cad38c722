"""Bad input at scale (issue 9): every form of the application, and the search boxes, get random
and hostile values. Never a 500: either a message beside the field and nothing changed in the
database, or a correct save of the value as given, shown escaped.

Every FlaskForm in portal/ needs an entry in CASES (test_every_form_has_a_hostile_input_case
names the missing ones), so a new form cannot be forgotten. Each entry says where the form
posts, who may post it, a valid submission, and which fields get hostile values; Hypothesis
then puts hostile values (tests/hostile_values.py) into one to three of those fields at a time.
Runs are reproducible: each case has a fixed seed and no example database.
"""

import ast
import hashlib
import html
import importlib
import inspect
import io
import itertools
import json
import pkgutil
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from urllib.parse import urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st
from markupsafe import escape

import portal
from portal import (
    breaches,
    campaigns,
    complaints,
    consent,
    create_app,
    customers,
    erasure,
    passwords,
    privacy_requests,
)
from portal import settings as stored_settings
from portal.customer.details_forms import EDITABLE_FIELDS
from portal.customer_list import Filters
from portal.extensions import db
from portal.models import (
    ALL_MODELS,
    Address,
    AuditEvent,
    Automation,
    Breach,
    Campaign,
    Complaint,
    ComplaintMessage,
    ConsentEvent,
    ConsentPurpose,
    ConsentWording,
    Customer,
    ErasureRequest,
    ImportJob,
    Interaction,
    Location,
    PrivacyRequest,
    Purchase,
    PurchaseLine,
    Segment,
    SensitiveIdentifier,
    StaffAccount,
    Tag,
    utcnow,
)
from tests.conftest import PASSWORD, base_config, csrf_token_from, sign_in
from tests.customer_signin import sign_in_customer
from tests.factories import make_customer
from tests.hostile_values import assert_escaped, value_for
from tests.import_files import csv_bytes

# The page form errors are shown with: a message beside a field, or above the form.
ERROR_MARKUP = re.compile(r'class="(?:error|form-errors|flash flash-error)"|has-error')


@pytest.fixture
def app(database_url, tmp_path):
    """The app of a business in Warsaw (dates at the edges of the calendar shift when turned
    into UTC), with the sign-in and link limits raised: every post here is a new hostile
    value, and the limiter would otherwise answer most of them before the form does."""
    config = {
        **base_config(database_url),
        "BABEL_DEFAULT_TIMEZONE": "Europe/Warsaw",
        "SIGN_IN_LIMIT_PER_ADDRESS": "100000 per minute",
        "SIGN_IN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "CUSTOMER_LINK_LIMIT_PER_ADDRESS": "100000 per minute",
        "CUSTOMER_LINK_LIMIT_PER_EMAIL": "100000 per minute",
    }
    yield create_app(config, instance_path=str(tmp_path / "instance"))
    db.close_all()


# --- Finding every form ----------------------------------------------------------------------


def _class_definitions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every class in a module, those built inside functions too."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.ClassDef):
            yield prefix + node.name, node
            yield from _class_definitions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _class_definitions(node, f"{prefix}{node.name}.<locals>.")
        else:
            yield from _class_definitions(node, prefix)


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def portal_forms() -> set[str]:
    """Every FlaskForm subclass defined in portal/, as "module:QualifiedName"."""
    found = set()
    for info in pkgutil.walk_packages(portal.__path__, "portal."):
        module = importlib.import_module(info.name)
        forms_here: dict[str, type] = {}
        for qualname, node in _class_definitions(ast.parse(inspect.getsource(module))):
            for base in filter(None, map(_base_name, node.bases)):
                known = forms_here.get(base) or getattr(module, base, None)
                if isinstance(known, type) and issubclass(known, FlaskForm):
                    found.add(f"{info.name}:{qualname}")
                    forms_here[node.name] = known
    return found


# --- The database, before and after ----------------------------------------------------------


def database_fingerprint(ignored_actions=()) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, per table: equal fingerprints mean nothing changed.

    Audit events of reading (`…_viewed`) are left out: a refused form comes back on a page, and
    showing a page is an audited view, not a change.
    """
    result = {}
    for model in ALL_MODELS:
        digest, count = hashlib.sha256(), 0
        for row in model.select().order_by(model._meta.primary_key).dicts().iterator():
            if model is AuditEvent and (
                row["action"].endswith("_viewed") or row["action"] in ignored_actions
            ):
                continue
            digest.update(repr(sorted(row.items())).encode())
            count += 1
        result[model._meta.table_name] = (count, digest.hexdigest()[:16])
    return result


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in after if before.get(name) != after[name]]


# --- The records the forms work on -----------------------------------------------------------


class World:
    """Signed-in clients and the records forms edit, made when a case first needs them."""

    def __init__(self, app, owner, staff):
        self.app, self.owner, self.staff = app, owner, staff
        self.slots: dict[str, object] = {}  # names in field keys, e.g. the breach id
        self._clients: dict[str, object] = {}
        self._counter = itertools.count(1)

    def next_number(self) -> int:
        return next(self._counter)

    def client(self, persona: str):
        if persona not in self._clients:
            client = self.app.test_client()
            if persona in ("staff", "owner"):
                account = self.staff if persona == "staff" else self.owner
                assert sign_in(client, account).status_code == 303
            elif persona == "customer":
                sign_in_customer(client, self.customer)
            self._clients[persona] = client
        return self._clients[persona]

    def context(self):
        return self.app.test_request_context()

    @cached_property
    def location(self) -> Location:
        return Location.create(name="Rynek 1")

    @cached_property
    def customer(self) -> Customer:
        self.location  # noqa: B018  (forms offer a location once the business has one)
        return make_customer(
            "Anna", "Nowak", email="anna@example.com", phone="+48601555012", tags=("vip",)
        )

    def fresh_customer(self) -> Customer:
        number = self.next_number()
        return make_customer("Ewa", f"Kowalska{number}", email=f"ewa{number}@example.com")

    def fresh_complaint(self, customer=None) -> Complaint:
        with self.context():
            return complaints.open_complaint(
                customer or self.customer,
                subject="Broken lid",
                description="The lid broke on the first day.",
                channel="in_store",
                category="product_quality",
                severity="medium",
                staff_id=self.staff.id,
            )

    @cached_property
    def complaint(self) -> Complaint:
        return self.fresh_complaint()

    @cached_property
    def purpose(self) -> ConsentPurpose:
        texts = {
            "en": ("E-mail offers", "We may e-mail you our offers."),
            "pl": ("Oferty e-mailem", "Możemy wysyłać Ci oferty e-mailem."),
        }
        with self.context():
            return consent.create_purpose("email_offers", texts, actor_id=self.owner.id)

    @cached_property
    def segment(self) -> Segment:
        return Segment.create(name="VIPs", filters=json.dumps({"tag": "vip"}))

    def rating_token(self) -> str:
        """A link to rate a freshly closed complaint."""
        complaint = self.fresh_complaint()
        with self.context():
            complaints.change_status(complaint, "resolved", staff_id=None)
            complaints.change_status(complaint, "closed", staff_id=None)
            self.slots["complaint"] = complaint.id
            return complaints.rating_token(complaint)

    def pending_erasure(self) -> ErasureRequest:
        with self.context():
            request = erasure.request_erasure(self.fresh_customer().id, staff_id=self.staff.id)
        self.slots["request"] = request.id
        return request

    def fresh_breach(self) -> Breach:
        now = utcnow()
        breach = breaches.record(
            discovered_at=now - timedelta(days=1),
            description="A laptop was stolen.",
            window_start=now - timedelta(days=10),
            window_end=now - timedelta(days=1),
            staff_account_id=self.staff.id,
            recorded_by=self.owner.id,
        )
        self.slots["breach"] = breach.id
        return breach

    def open_access_request(self) -> PrivacyRequest:
        customer = self.fresh_customer()
        with self.context():
            request = privacy_requests.open_request(customer.id, "access", staff_id=self.staff.id)
        self.slots["customer"], self.slots["request"] = customer.id, request.id
        return request

    def merge_pair(self) -> tuple[Customer, Customer]:
        number = self.next_number()
        survivor = make_customer("Jan", f"Wiśniewski{number}", company="Herbata sp. z o.o.")
        duplicate = make_customer("Janek", f"Wisniewski{number}", company="Herbata")
        return survivor, duplicate

    @cached_property
    def import_job(self) -> ImportJob:
        """An uploaded customer file waiting for its mapping."""
        client = self.client("owner")
        data = csv_bytes(
            ["First Name", "Last Name", "Email"],
            [{"First Name": "Olek", "Last Name": "Zieliński", "Email": "olek@example.com"}],
        )
        response = client.post(
            "/owner/imports",
            data={
                "csrf_token": csrf_token_from(client, "/owner/imports"),
                "file": (io.BytesIO(data), "customers.csv"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        return ImportJob.select().order_by(ImportJob.id.desc()).get()


# --- What a case is --------------------------------------------------------------------------


def choice(*values: str) -> tuple[str, tuple[str, ...]]:
    """A field offering these values (posted as they are, and hostile values besides)."""
    return ("text", values)


def redirected(response) -> bool:
    return response.status_code in (302, 303)


@dataclass(frozen=True)
class Case:
    """One form at one address, as one persona posts it."""

    label: str
    forms: tuple[str, ...]  # "module:QualifiedName" of the FlaskForm classes it covers
    persona: str  # staff, owner, customer or public
    path: Callable[["World"], str]  # called once per example: it may make fresh records
    valid: Callable[["World"], dict]  # a submission the form accepts
    fields: dict  # name → kind (tests/hostile_values.KINDS) or choice(...)
    method: str = "POST"
    examples: int = 15
    # How a refusal may answer (always with the form's error markup on a 200 or 422 page).
    refusals: frozenset = frozenset({422})
    saved_when: Callable = redirected
    check_saved: Callable | None = None  # (world, sent, page after the save)
    to_request: Callable | None = None  # builds the request's data from what was sent
    ignored_actions: tuple[str, ...] = ()  # audit events a refusal may still write
    fresh_token: bool = False  # the form signs in or out: read the token before each post
    token_page: str | None = None  # where the CSRF token is read (default: a page of the persona)
    explicit: tuple[dict, ...] = ()  # examples that once failed, kept as @example

    @property
    def id(self) -> str:
        return f"{self.forms[0].split(':')[1].rsplit('.', 1)[-1]}-{self.label}"


# --- Checks after a save ---------------------------------------------------------------------


def _given(sent: dict, name: str) -> str:
    return str(sent[name]).strip()


def _shown(page, *values) -> None:
    body = page.get_data(as_text=True)
    for value in values:
        assert str(escape(value)) in body, f"{value[:60]!r} is not shown (escaped) after saving"


ROW_TEXT = ("given_name", "family_name", "company", "note", "source_detail")
ADDRESS_TEXT = {"address_line1": "line1", "address_line2": "line2", "city": "city"}


def _customer_saved(customer: Customer, sent: dict, page, fields=ROW_TEXT) -> None:
    customer = Customer.get_by_id(customer.id)
    for name in fields:
        if name in sent:
            assert getattr(customer, name) == _given(sent, name), name
    address = Address.get_or_none(Address.customer == customer.id)
    for name, column in ADDRESS_TEXT.items():
        if name in sent and _given(sent, name):
            assert getattr(address, column) == _given(sent, name), name
    _shown(page, customer.display_name)


def new_customer_saved(world, sent, page):
    _customer_saved(Customer.select().order_by(Customer.id.desc()).get(), sent, page)


def edited_customer_saved(world, sent, page):
    _customer_saved(world.slots["edited"], sent, page)


def details_saved(world, sent, page):
    _customer_saved(world.customer, sent, page, fields=("given_name", "family_name"))


def purchase_saved(world, sent, page):
    purchase = Purchase.select().order_by(Purchase.id.desc()).get()
    assert purchase.receipt_number == _given(sent, "purchase-receipt_number")
    lines = list(PurchaseLine.select().where(PurchaseLine.purchase == purchase))
    assert sum(line.line_total for line in lines) == purchase.total
    products = {line.product for line in lines}
    for key in ("purchase-lines-0-product", "purchase-lines-1-product"):
        if key in sent and _given(sent, key):
            assert _given(sent, key) in products
    _shown(page, *products)


def interaction_saved(world, sent, page):
    interaction = Interaction.select().order_by(Interaction.id.desc()).get()
    assert interaction.summary == _given(sent, "interaction-summary")
    _shown(page, interaction.summary)


def complaint_saved(prefix: str):
    def check(world, sent, page):
        complaint = Complaint.select().order_by(Complaint.id.desc()).get()
        assert complaint.subject == _given(sent, prefix + "subject")
        assert complaint.description == _given(sent, prefix + "description")
        _shown(page, complaint.subject, complaint.description)

    return check


def message_saved(world, sent, page):
    message = ComplaintMessage.select().order_by(ComplaintMessage.id.desc()).get()
    assert message.body == _given(sent, "body")
    _shown(page, message.body)


def resolution_saved(world, sent, page):
    complaint = Complaint.get_by_id(world.complaint.id)
    assert complaint.resolution == _given(sent, "resolution-resolution")
    _shown(page, complaint.resolution)


def consent_saved(world, sent, page):
    event = ConsentEvent.select().order_by(ConsentEvent.id.desc()).get()
    assert event.evidence == _given(sent, "consent-evidence")


def segment_saved(world, sent, page):
    segment = Segment.select().order_by(Segment.id.desc()).get()
    assert segment.name == _given(sent, "name")
    _shown(page, segment.name)


def tag_saved(world, sent, page):
    assert Tag.get_or_none(Tag.name == _given(sent, "tag").lower()) is not None


def staff_saved(world, sent, page):
    account = StaffAccount.select().order_by(StaffAccount.id.desc()).get()
    assert account.name == sent["name"]
    _shown(page, account.name)


def purpose_saved(world, sent, page):
    wording = ConsentWording.select().order_by(ConsentWording.id.desc())
    titles = {w.title for w in wording.limit(4)}
    assert _given(sent, "en-title") in titles
    _shown(page, _given(sent, "en-title"))


def breach_saved(world, sent, page):
    breach = Breach.select().order_by(Breach.id.desc()).get()
    assert breach.description == _given(sent, "breach-description")
    _shown(page, breach.description)


def hold_saved(world, sent, page):
    request = ErasureRequest.get_by_id(world.slots["request"])
    assert request.lawful_reason == _given(sent, "reason")
    _shown(page, request.lawful_reason)


def processing_saved(world, sent, page):
    assert stored_settings.get("business_name") == _given(sent, "business_name")
    _shown(page, _given(sent, "business_name"))


def periods_saved(world, sent, page):
    for name in (
        "retention_lead_months",
        "retention_customer_years",
        "request_deadline_days",
        "erasure_grace_days",
    ):
        assert stored_settings.get(name) == int(sent[name]), name


def rating_saved(world, sent, page):
    complaint = Complaint.get_by_id(world.slots["complaint"])
    assert complaint.satisfaction == int(sent["score"])
    assert complaint.satisfaction_comment == _given(sent, "comment")


def identifier_saved(world, sent, page):
    assert (
        SensitiveIdentifier.select()
        .where(SensitiveIdentifier.customer == world.slots["customer"])
        .exists()
    )


def upload_saved(world, sent, page):
    job = ImportJob.select().order_by(ImportJob.id.desc()).get()
    assert job.filename
    # Headings are read with their whitespace tidied, as portal/imports/reading.py does.
    _shown(page, " ".join(sent["header"].replace("\ufeff", "").split()))


# --- Building requests -----------------------------------------------------------------------


def upload_request(sent: dict) -> dict:
    """A CSV upload whose file name, heading and cell are the hostile values."""
    headers = ["First Name", sent["header"], "Email"]
    rows = [{"First Name": sent["cell"], sent["header"]: "x", "Email": "olek@example.com"}]
    try:
        content = csv_bytes(headers, rows)
    except UnicodeEncodeError:
        content = b"First Name\r\n"
    return {"file": (io.BytesIO(content), sent["filename"])}


def _customer_form_values(customer: Customer) -> dict:
    values = customers.form_values(customer)
    values = {k: ("" if v is None else str(v)) for k, v in values.items()}
    values["gender_choice"] = ""
    return values


def edit_target(world) -> str:
    customer = world.fresh_customer()
    world.slots["edited"] = customer
    return f"/customers/{customer.id}/edit"


def identifier_target(world) -> str:
    world.slots["customer"] = world.fresh_customer().id
    return f"/customers/{world.slots['customer']}/identifiers"


def close_request_target(world) -> str:
    request = world.open_access_request()
    return f"/customers/{request.customer_id}/privacy-requests/{request.id}/close"


def second_step_target(world) -> str:
    """The owner's second sign-in step, after the password was right."""
    if "pending" not in world.slots:
        client = world.client("public")
        token = csrf_token_from(client, "/sign-in")
        first = client.post(
            "/sign-in", data={"csrf_token": token, "email": world.owner.email, "password": PASSWORD}
        )
        assert first.headers["Location"] == "/sign-in/code"
        world.slots["pending"] = True
    return "/sign-in/code"


def two_factor_target(world) -> str:
    """The set-up page keeps one secret while set-up is under way: open it once first."""
    if "setup" not in world.slots:
        assert world.client("staff").get("/account/two-factor").status_code == 200
        world.slots["setup"] = True
    return "/account/two-factor"


def password_changed(world, sent, page):
    account = StaffAccount.get_by_id(world.staff.id)
    assert passwords.verify(account.password_hash, sent["new_password"])
    world.slots["password"] = sent["new_password"]


def password_reset(world, sent, page):
    assert passwords.verify(StaffAccount.get_by_id(world.staff.id).password_hash, sent["password"])


def role_changed(world, sent, page):
    assert StaffAccount.get_by_id(world.staff.id).role == sent["role"]


CAMPAIGN = {
    "name": "Spring offers",
    "customers": "all",
    "filters": "",
    "en-subject": "News for {first_name}",
    "en-body": "Hello {first_name}, spring prices.",
}


def campaign_saved(world, sent, page):
    campaign = Campaign.select().order_by(Campaign.id.desc()).get()
    assert campaign.name == _given(sent, "name")
    texts = json.loads(campaign.content)
    assert texts["en"]["subject"] == _given(sent, "en-subject")
    _shown(page, campaign.name, texts["en"]["subject"])


def schedule_target(world) -> str:
    """A fresh draft to schedule (a scheduled one goes back to draft only when edited)."""
    with world.context():
        campaign = campaigns.save_draft(
            None,
            name=f"Draft {world.next_number()}",
            purpose_id=world.purpose.id,
            filters=Filters(),
            segment_id=None,
            content=json.dumps({"en": {"subject": "Hi", "body": "Hello"}}),
            staff_id=world.owner.id,
        )
    world.slots["campaign"] = campaign.id
    return f"/owner/campaigns/{campaign.id}/schedule"


def scheduled(world, sent, page):
    assert Campaign.get_by_id(world.slots["campaign"]).status == "scheduled"


def speed_saved(world, sent, page):
    assert stored_settings.get("messages_per_minute") == int(sent["per_minute"])


def merge_target(world) -> str:
    survivor, duplicate = world.merge_pair()
    return f"/customers/{survivor.id}/merge/{duplicate.id}"


def mapping_values(world) -> dict:
    """The mapping form as its page fills it."""
    job = world.import_job
    page = world.client("owner").get(f"/owner/imports/{job.id}/mapping").get_data(as_text=True)
    values = {}
    for match in re.finditer(r"<(input|select|textarea)\b([^>]*)>", page):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(2)))
        name = attrs.get("name")
        if not name or name == "csrf_token":
            continue
        if match.group(1) == "input" and attrs.get("type") == "radio":
            if "checked" in match.group(2):
                values[name] = attrs["value"]
            continue
        if match.group(1) == "select":
            rest = page[match.end() :]
            options = rest[: rest.index("</select>")]
            chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', options) or re.search(
                r'<option[^>]*value="([^"]*)"[^>]*selected', options
            )
            values[name] = chosen.group(1) if chosen else ""
            continue
        values[name] = attrs.get("value", "")
    return {name: html.unescape(value) for name, value in values.items()}


CUSTOMER_FIELDS = {
    "given_name": "text",
    "family_name": "text",
    "name_order": choice("given_first", "family_first"),
    "company": "text",
    "email": "email",
    "email2": "email",
    "phone": "phone",
    "phone2": "phone",
    "address_line1": "text",
    "address_line2": "text",
    "postal_code": "text",
    "city": "text",
    "country": choice("", "PL", "CN", "UA", "XK"),
    "preferred_channel": choice("email", "phone", "sms", "post", "none"),
    "preferred_language": choice("en", "pl", "ru", "zh"),
    "birth_date": "date",
    "gender_choice": choice("", "prefer_not_to_say", "self_described"),
    "gender": "text",
    "tags": "text",
    "note": "text",
    "source": choice("in_store", "web_form", "import", "vendor_list", "other"),
    "source_detail": "text",
}
NEW_CUSTOMER = {
    "given_name": "Ewa",
    "family_name": "Kowalska",
    "name_order": "given_first",
    "preferred_channel": "none",
    "preferred_language": "pl",
    "country": "PL",
    "source": "in_store",
    "gender_choice": "",
}
# Browsers read "/\\host" and "/<tab>/host" as "//host": a language switch must stay on the site.
BACKSLASH_AND_TAB_NEXT = ({"next": "/\\evil.example"}, {"next": "/\t/evil.example"})


def next_targets(*own_paths):
    """Where a language switcher is asked to go next: its own pages and other sites."""
    return choice(
        *own_paths,
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        " //evil.example",
    )


DETAILS_FIELDS = {name: kind for name, kind in CUSTOMER_FIELDS.items() if name in EDITABLE_FIELDS}
WHEN = "2024-05-01T10:00"
JSON_FILTERS = choice(
    '{"tag": "vip"}',
    '{"min_spend": "abc"}',
    '{"min_spend": "NaN"}',
    '{"max_spend": 1e999}',
    '{"purchased_since": "0000-00-00"}',
    '{"purchased_since": "0001-01-01"}',
    '{"consent_purpose": "x", "consent_state": "granted"}',
    '{"consent_purpose": 99999999999999999999, "consent_state": "granted"}',
    '{"sort": {"a": 1}}',
    '{"sort": "nope"}',
    '{"kind": ["lead"]}',
    '{"tag": 5}',
    '{"city": null}',
    "[]",
    "null",
    '"text"',
    "{",
)
CSRF_ONLY = {"csrf_token": "text"}

CASES = [
    # --- Staff workspace ---------------------------------------------------------------------
    Case(
        label="new",
        forms=("portal.staff.customer_forms:CustomerForm",),
        persona="staff",
        path=lambda w: "/customers/new",
        valid=lambda w: dict(NEW_CUSTOMER),
        fields=CUSTOMER_FIELDS,
        examples=25,
        check_saved=new_customer_saved,
    ),
    Case(
        label="edit",
        forms=("portal.staff.customer_forms:CustomerForm",),
        persona="staff",
        path=edit_target,
        valid=lambda w: _customer_form_values(w.slots["edited"]),
        fields=CUSTOMER_FIELDS,
        check_saved=edited_customer_saved,
    ),
    Case(
        label="purchase",
        explicit=(
            # Each line in range, the total beyond what a money column holds (PostgreSQL: 500).
            {"purchase-lines-0-quantity": "99999", "purchase-lines-0-unit_price": "999999999.99"},
        ),
        forms=("portal.staff.profile_forms:PurchaseForm",),
        persona="staff",
        path=lambda w: f"/customers/{w.customer.id}/purchases",
        valid=lambda w: {
            "purchase-purchased_at": WHEN,
            "purchase-channel": "store",
            "purchase-location": str(w.location.id),
            "purchase-receipt_number": "R-2024-0001",
            "purchase-lines-0-product": "Green tea",
            "purchase-lines-0-quantity": "2",
            "purchase-lines-0-unit_price": "12.50",
        },
        fields={
            "purchase-purchased_at": "datetime",
            "purchase-channel": choice("store", "online", "phone"),
            "purchase-location": choice(""),
            "purchase-receipt_number": "text",
            "purchase-lines-0-product": "text",
            "purchase-lines-0-quantity": "number",
            "purchase-lines-0-unit_price": "number",
            "purchase-lines-1-product": "text",
            "purchase-lines-1-quantity": "number",
            "purchase-lines-1-unit_price": "number",
            "purchase-lines-99999999999999999999-product": "text",
        },
        examples=25,
        check_saved=purchase_saved,
    ),
    Case(
        label="interaction",
        forms=("portal.staff.profile_forms:InteractionForm",),
        persona="staff",
        path=lambda w: f"/customers/{w.customer.id}/interactions",
        valid=lambda w: {
            "interaction-occurred_at": WHEN,
            "interaction-direction": "in",
            "interaction-channel": "call",
            "interaction-summary": "Asked about green tea.",
        },
        fields={
            "interaction-occurred_at": "datetime",
            "interaction-direction": choice("in", "out"),
            "interaction-channel": choice("call", "email", "chat", "visit", "note"),
            "interaction-summary": "text",
        },
        check_saved=interaction_saved,
    ),
    Case(
        label="open",
        forms=("portal.staff.complaint_forms:ComplaintForm",),
        persona="staff",
        path=lambda w: f"/customers/{w.customer.id}/complaints",
        valid=lambda w: {
            "complaint-subject": "Broken lid",
            "complaint-description": "The lid broke.",
            "complaint-channel": "in_store",
            "complaint-category": "product_quality",
            "complaint-severity": "high",
            "complaint-location": "",
        },
        fields={
            "complaint-subject": "text",
            "complaint-description": "text",
            "complaint-channel": choice("in_store", "email", "phone", "web_form"),
            "complaint-category": choice("delivery", "other"),
            "complaint-severity": choice("low", "critical"),
            "complaint-location": choice(""),
        },
        check_saved=complaint_saved("complaint-"),
    ),
    Case(
        label="status",
        forms=("portal.staff.complaint_forms:StatusForm",),
        persona="staff",
        path=lambda w: f"/complaints/{w.fresh_complaint().id}/status",
        valid=lambda w: {"to_status": "in_progress"},
        fields={"to_status": choice("in_progress", "resolved", "closed", "new")},
    ),
    Case(
        label="assign",
        forms=("portal.staff.complaint_forms:AssignForm",),
        persona="staff",
        path=lambda w: f"/complaints/{w.complaint.id}/assign",
        valid=lambda w: {"assignee": str(w.staff.id)},
        fields={"assignee": choice("", "0", "-1", "1", "2")},
    ),
    Case(
        label="reply",
        forms=("portal.staff.complaint_forms:MessageForm",),
        persona="staff",
        path=lambda w: f"/complaints/{w.complaint.id}/replies",
        valid=lambda w: {"body": "We are sending a new lid."},
        fields={"body": "text"},
        check_saved=message_saved,
    ),
    Case(
        label="note",
        forms=("portal.staff.complaint_forms:MessageForm",),
        persona="staff",
        path=lambda w: f"/complaints/{w.complaint.id}/notes",
        valid=lambda w: {"body": "Supplier knows."},
        fields={"body": "text"},
        check_saved=message_saved,
    ),
    Case(
        label="resolution",
        forms=("portal.staff.complaint_forms:ResolutionForm",),
        persona="staff",
        path=lambda w: f"/complaints/{w.complaint.id}/resolution",
        valid=lambda w: {
            "resolution-resolution": "Sent a new lid.",
            "resolution-redress": "replacement",
            "resolution-redress_value": "25",
        },
        fields={
            "resolution-resolution": "text",
            "resolution-redress": choice("refund", "replacement", "apology", "none"),
            "resolution-redress_value": "number",
        },
        check_saved=resolution_saved,
    ),
    Case(
        label="board",
        forms=("portal.staff.complaint_board_forms:BoardForm",),
        persona="staff",
        method="GET",
        path=lambda w: "/complaints",
        valid=lambda w: {"group_by": "status"},
        fields={
            "group_by": choice("status", "assignee"),
            "category": choice("", "delivery"),
            "severity": choice("", "low"),
            "location": choice("", "1"),
            "show_closed": choice("y", ""),
        },
    ),
    Case(
        label="consent",
        forms=("portal.staff.consent_forms:ConsentForm",),
        persona="staff",
        path=lambda w: f"/customers/{w.customer.id}/consent",
        valid=lambda w: {
            "consent-purpose": str(w.purpose.id),
            "consent-versions_for": str(w.purpose.id),
            "consent-decision": "granted",
            "consent-wording_version": "1",
            "consent-channel": "paper_form",
            "consent-evidence": "Paper form no. 12",
        },
        fields={
            "consent-purpose": choice("1", "0", "2"),
            "consent-versions_for": choice("1"),
            "consent-decision": choice("granted", "withdrawn"),
            "consent-wording_version": "number",
            "consent-channel": choice("paper_form", "verbal", "import"),
            "consent-evidence": "text",
        },
        check_saved=consent_saved,
    ),
    Case(
        label="identifier",
        forms=("portal.staff.identifier_forms:IdentifierForm",),
        persona="staff",
        path=identifier_target,
        valid=lambda w: {"identifier-kind": "national_id", "identifier-value": "44051401359"},
        fields={
            "identifier-kind": choice("national_id", "tax_number"),
            "identifier-value": choice("44051401359", "5260250274", "4405 1401 359"),
        },
        check_saved=identifier_saved,
    ),
    Case(
        label="list",
        explicit=(
            {"max_spend": "1e309"},  # read as a Decimal, then too big for the column: 500
            {"min_spend": "NaN", "max_spend": "5"},  # NaN does not compare: 500
        ),
        forms=("portal.staff.list_forms:FilterForm",),
        persona="staff",
        method="GET",
        path=lambda w: "/customers",
        valid=lambda w: {"sort": "name"},
        fields={
            "kind": choice("", "lead", "customer"),
            "tag": "search",
            "tier": choice("", "A"),
            "city": "search",
            "consent_purpose": choice("", "1"),
            "consent_state": choice("", "granted", "never_asked"),
            "purchased_since": "date",
            "purchased_before": "date",
            "min_spend": "number",
            "max_spend": "number",
            "sort": choice("name", "newest", "spend", "activity"),
            "after": "text",
        },
        examples=25,
    ),
    Case(
        label="bulk-tag",
        explicit=(
            {"tag": "İ" * 60},  # 60 characters typed, 120 once lower-cased (PostgreSQL: 500)
            {"return_to": "/\\evil.example"},  # must stay on the site (browsers read "//")
        ),
        forms=("portal.staff.list_forms:BulkTagForm",),
        persona="staff",
        path=lambda w: "/customers/bulk-tag",
        valid=lambda w: {
            "tag": "tea lovers",
            "customer_ids": [str(w.customer.id)],
            "return_to": "/customers",
        },
        fields={
            "tag": "text",
            "customer_ids": "number",
            "return_to": choice(
                "/customers?tag=vip",
                "//evil.example/",
                "/\\evil.example",
                "/\t/evil.example",
                " //evil.example",
            ),
        },
        check_saved=tag_saved,
    ),
    Case(
        label="segment",
        explicit=(
            {"filters": "[]"},  # not an object: 500
            {"filters": '{"min_spend": "NaN"}'},  # saved, then every segments page: 500
            {"filters": '{"min_spend": "abc"}'},  # not a number: 500
            {"filters": '{"tag": "a\\u0000"}'},  # saved, then its count on PostgreSQL: 500
        ),
        forms=("portal.staff.list_forms:SegmentForm",),
        persona="staff",
        path=lambda w: "/segments",
        valid=lambda w: {"name": "Warsaw VIPs", "filters": '{"tag": "vip"}'},
        fields={"name": "text", "filters": JSON_FILTERS},
        check_saved=segment_saved,
    ),
    Case(
        label="privacy-request",
        forms=("portal.staff.request_forms:PrivacyRequestForm",),
        persona="staff",
        path=lambda w: f"/customers/{w.customer.id}/privacy-requests",
        valid=lambda w: {"request-kind": "access", "request-received_on": "2024-05-01"},
        fields={
            "request-kind": choice("access", "correction", "erasure"),
            "request-received_on": "date",
        },
    ),
    Case(
        label="close-request",
        explicit=(
            {"status": "open"},  # refused without a word
        ),
        forms=("portal.staff.request_forms:CloseRequestForm",),
        persona="staff",
        path=close_request_target,
        valid=lambda w: {"status": "completed"},
        fields={"status": choice("completed", "refused", "open")},
        examples=10,
    ),
    Case(
        label="merge",
        explicit=(
            {"company": "' OR 1=1 --"},  # refused without a word
        ),
        forms=("portal.staff.duplicate_views:_merge_form.<locals>.MergeForm",),
        persona="staff",
        path=merge_target,
        valid=lambda w: {"given_name": "take", "family_name": "keep", "company": "keep"},
        fields={
            "given_name": choice("keep", "take"),
            "family_name": choice("keep", "take"),
            "company": choice("keep", "take"),
        },
        examples=10,
    ),
    # --- Owner pages -------------------------------------------------------------------------
    Case(
        label="staff-account",
        forms=("portal.owner.forms:StaffAccountForm",),
        persona="owner",
        path=lambda w: "/owner/staff",
        valid=lambda w: {
            "name": "Nina Nowa",
            "email": f"nina{w.next_number()}@example.com",
            "role": "staff",
            "password": "long enough password",
        },
        fields={
            "name": "text",
            "email": "email",
            "role": choice("staff", "owner"),
            "password": "text",
        },
        refusals=frozenset({200, 422}),
        check_saved=staff_saved,
    ),
    Case(
        label="audit-log",
        explicit=({"customer": "99999999999999999999", "before": "99999999999"},),
        forms=("portal.owner.audit_forms:AuditLogFilterForm",),
        persona="owner",
        method="GET",
        path=lambda w: "/owner/audit",
        valid=lambda w: {},
        fields={
            "who": choice("", "customer", "system", "staff:1", "staff:x"),
            "action": choice("", "signed_in"),
            "customer": "number",
            "since": "date",
            "until": "date",
            "before": "number",
        },
    ),
    Case(
        label="complaint-report",
        explicit=(
            # 10,000 years of opening hours worked out for one page, then a date overflow: 500
            {"start": "0001-01-01", "end": "9999-12-31"},
        ),
        forms=("portal.owner.complaint_report_forms:ComplaintPeriodForm",),
        persona="owner",
        method="GET",
        path=lambda w: "/owner/reports/complaints",
        valid=lambda w: {"start": "2024-01-01", "end": "2024-01-31"},
        fields={"start": "date", "end": "date"},
    ),
    Case(
        label="complaint-report-pdf",
        forms=("portal.owner.complaint_report_forms:ComplaintPeriodForm",),
        persona="owner",
        path=lambda w: "/owner/reports/complaints/pdf",
        valid=lambda w: {"start": "2024-01-01", "end": "2024-01-31"},
        fields={"start": "date", "end": "date"},
        examples=6,
    ),
    Case(
        label="complaint-settings",
        forms=("portal.owner.complaint_settings_forms:ComplaintSettingsForm",),
        persona="owner",
        path=lambda w: "/owner/settings/complaints",
        valid=lambda w: {
            **{f"opens_{d}": "09:00" for d in range(5)},
            **{f"closes_{d}": "17:00" for d in range(5)},
            "holidays": "2026-12-25",
            **{f"first_response_{s}": "8" for s in ("low", "medium", "high", "critical")},
            **{f"resolution_{s}": "40" for s in ("low", "medium", "high", "critical")},
        },
        fields={
            "opens_0": "time",
            "closes_0": "time",
            "opens_6": "time",
            "closes_6": "time",
            "holidays": "date",
            "first_response_low": "number",
            "resolution_low": "number",
            "first_response_critical": "number",
        },
    ),
    Case(
        label="new-purpose",
        forms=("portal.owner.consent_forms:PurposeForm",),
        persona="owner",
        path=lambda w: "/owner/consent/new",
        valid=lambda w: {
            "code": f"newsletter_{w.next_number()}",
            "en-title": "Newsletter",
            "en-text": "We may send you our newsletter.",
        },
        fields={
            "code": "text",
            "en-title": "text",
            "en-text": "text",
            "ru-title": "text",
            "ru-text": "text",
            "zh-title": "text",
            "zh-text": "text",
        },
        check_saved=purpose_saved,
    ),
    Case(
        label="wording",
        forms=("portal.owner.consent_forms:WordingVersionForm",),
        persona="owner",
        path=lambda w: f"/owner/consent/{w.purpose.id}",
        valid=lambda w: {
            "en-title": "E-mail offers",
            "en-text": f"We may e-mail you our offers ({w.next_number()}).",
        },
        fields={"en-title": "text", "en-text": "text", "pl-title": "text", "pl-text": "text"},
        check_saved=purpose_saved,
    ),
    Case(
        label="purpose-active",
        forms=("portal.owner.consent_forms:ActiveForm",),
        persona="owner",
        path=lambda w: f"/owner/consent/{w.purpose.id}/active",
        valid=lambda w: {"active": "1"},
        fields={"csrf_token": "text", "active": choice("0", "1")},
        refusals=frozenset({400}),
        examples=10,
    ),
    Case(
        label="contact-list",
        forms=("portal.owner.consent_forms:ContactListForm",),
        persona="owner",
        method="GET",
        path=lambda w: "/owner/contact-lists",
        valid=lambda w: {
            "purpose": str(w.purpose.id),
            "segment": str(w.segment.id),
            "channel": "email",
        },
        fields={
            "purpose": choice("1", "0"),
            "segment": choice("", "1"),
            "channel": choice("email", "phone", "sms"),
        },
    ),
    Case(
        label="contact-list-export",
        forms=("portal.owner.consent_forms:ContactListForm",),
        persona="owner",
        path=lambda w: "/owner/contact-lists/export",
        valid=lambda w: {
            "purpose": str(w.purpose.id),
            "segment": str(w.segment.id),
            "channel": "email",
        },
        fields={
            "purpose": choice("1", "0"),
            "segment": choice("", str(1)),
            "channel": choice("email", "phone", "sms"),
        },
        saved_when=lambda r: r.status_code == 200 and r.mimetype == "text/csv",
        examples=10,
    ),
    Case(
        label="hold",
        forms=("portal.owner.erasure_forms:HoldForm",),
        persona="owner",
        path=lambda w: f"/owner/privacy/erasures/{w.pending_erasure().id}",
        valid=lambda w: {"parts": ["complaints"], "reason": "A court claim, case 12/2024."},
        fields={
            "parts": choice("complaints", "interactions", "purchases_detail", "customer"),
            "reason": "text",
        },
        check_saved=hold_saved,
    ),
    Case(
        label="execute-erasure",
        forms=("portal.owner.erasure_forms:ConfirmForm",),
        persona="owner",
        path=lambda w: f"/owner/privacy/erasures/{w.pending_erasure().id}/execute",
        valid=lambda w: {},
        fields=CSRF_ONLY,
        refusals=frozenset({400}),
        examples=8,
    ),
    Case(
        label="export",
        explicit=({"export-segment": "99999999999999999999"},),
        forms=("portal.owner.export_forms:ExportForm",),
        persona="owner",
        path=lambda w: "/owner/exports",
        valid=lambda w: {
            "export-filters": '{"tag": "vip"}',
            "export-segment": "",
            "export-file_format": "csv",
            "export-purpose": "",
        },
        fields={
            "export-filters": JSON_FILTERS,
            "export-segment": choice("", "1", "0"),
            "export-file_format": choice("csv", "xlsx", "pdf"),
            "export-purpose": choice("", "1"),
        },
    ),
    Case(
        label="campaign",
        explicit=(
            {"en-subject": "Hi {frist_name}"},  # a typo in a placeholder
            {"customers": "list", "filters": '{"min_spend": "NaN"}'},
        ),
        forms=("portal.owner.campaign_forms:CampaignForm",),
        persona="owner",
        path=lambda w: "/owner/campaigns/new",
        valid=lambda w: {**CAMPAIGN, "purpose": str(w.purpose.id)},
        fields={
            "name": "text",
            "purpose": choice("1", "0", ""),
            "customers": choice("all", "list", "1", "0"),
            "filters": JSON_FILTERS,
            "en-subject": "text",
            "en-body": "text",
            "pl-subject": "text",
            "pl-body": "text",
        },
        examples=25,
        check_saved=campaign_saved,
    ),
    Case(
        label="campaign-schedule",
        forms=("portal.owner.campaign_forms:ScheduleForm",),
        persona="owner",
        path=schedule_target,
        valid=lambda w: {
            "send_at": (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        },
        fields={"send_at": "datetime"},
        check_saved=scheduled,
    ),
    Case(
        label="sending-speed",
        forms=("portal.owner.campaign_forms:SendingSpeedForm",),
        persona="owner",
        path=lambda w: "/owner/campaigns/speed",
        valid=lambda w: {"per_minute": "120"},
        fields={"per_minute": "number"},
        check_saved=speed_saved,
    ),
    Case(
        label="automation",
        explicit=(
            {"en-subject": "Hi {frist_name}"},  # a typo in a placeholder
            {"kind": "event_reminder", "purpose": ""},  # a service message needs its date
            {"kind": "birthday", "purpose": ""},  # marketing needs a purpose
            {"days": "99999999999999999999"},
        ),
        forms=("portal.owner.automation_forms:AutomationForm",),
        persona="owner",
        path=lambda w: "/owner/automations/new",
        valid=lambda w: {
            "name": "Thank-you",
            "kind": "after_purchase",
            "days": "7",
            "event_date": "",
            "purpose": str(w.purpose.id),
            "segment": str(w.segment.id),
            "en-subject": "Thank you, {first_name}",
            "en-body": "See you soon at {shop_name}.",
        },
        fields={
            "name": "text",
            "kind": choice("birthday", "after_purchase", "win_back", "event_reminder", "x"),
            "days": "number",
            "event_date": "date",
            "purpose": choice("", "1", "0"),
            "segment": choice("", "keep", "1", "0"),
            "en-subject": "text",
            "en-body": "text",
            "pl-subject": "text",
            "pl-body": "text",
        },
        examples=25,
        check_saved=lambda w, sent, page: _shown(page, _given(sent, "name")),
    ),
    Case(
        label="automation-edit",
        forms=("portal.owner.automation_forms:AutomationForm",),
        persona="owner",
        path=lambda w: (
            "/owner/automations/"
            + str(Automation.create(name="Birthdays", kind="birthday", purpose=w.purpose.id).id)
            + "/edit"
        ),
        valid=lambda w: {
            "name": "Birthdays",
            "kind": "event_reminder",
            "days": "3",
            "event_date": "2099-12-31",
            "purpose": "",
            "segment": "",
            "en-subject": "Tasting evening",
            "en-body": "Doors open at six.",
        },
        fields={
            "kind": choice("birthday", "event_reminder"),
            "days": "number",
            "event_date": "date",
            "purpose": choice("", "1"),
            "en-body": "text",
        },
        check_saved=lambda w, sent, page: _shown(page, _given(sent, "en-body")),
    ),
    Case(
        label="automation-active",
        forms=("portal.owner.automation_forms:ActiveForm",),
        persona="owner",
        path=lambda w: (
            "/owner/automations/"
            + str(Automation.create(name="Birthdays", kind="birthday", purpose=w.purpose.id).id)
            + "/active"
        ),
        valid=lambda w: {"active": "0"},
        fields={"csrf_token": "text", "active": choice("0", "1")},
        refusals=frozenset({400}),
        examples=10,
    ),
    Case(
        label="automation-run",
        forms=("portal.owner.automation_forms:RunForm",),
        persona="owner",
        path=lambda w: (
            "/owner/automations/"
            + str(Automation.create(name="Birthdays", kind="birthday", purpose=w.purpose.id).id)
            + "/run"
        ),
        valid=lambda w: {},
        fields=CSRF_ONLY,
        refusals=frozenset({400}),
        examples=8,
    ),
    Case(
        label="upload",
        forms=("portal.owner.import_forms:UploadForm",),
        persona="owner",
        path=lambda w: "/owner/imports",
        valid=lambda w: {"filename": "customers.csv", "header": "Last Name", "cell": "Olek"},
        fields={
            "filename": choice("customers.csv", "customers.xlsx", "../../etc/passwd.csv"),
            "header": "text",
            "cell": "text",
        },
        to_request=upload_request,
        check_saved=upload_saved,
    ),
    Case(
        label="import-cancel",
        forms=("portal.owner.import_forms:ActionForm",),
        persona="owner",
        path=lambda w: f"/owner/imports/{w.import_job.id}/cancel",
        valid=lambda w: {},
        fields=CSRF_ONLY,
        refusals=frozenset({400}),
        examples=8,
    ),
    Case(
        label="mapping",
        forms=(
            "portal.owner.import_forms:MappingForm",
            "portal.owner.import_forms:mapping_form.<locals>.Form",
        ),
        persona="owner",
        path=lambda w: f"/owner/imports/{w.import_job.id}/mapping",
        valid=mapping_values,
        fields={
            "default_region": choice("PL", "DE", "XX", "pl"),
            "default_currency": choice("", "PLN", "XXX", "pln"),
            "consent_evidence": "text",
            "list_kind": choice("internal", "external"),
            "vendor": "text",
            "duplicates": choice("skip", "update_fill", "create"),
            "save_as": "text",
            "column_0": choice("given_name", "ignore", "email"),
            "encoding": choice("", "utf-8", "gb18030"),
            "delimiter": choice("", ";", "\t"),
            "day_first": choice("yes", "no"),
            "default_language": choice("en", "pl"),
            "headings": "text",
        },
    ),
    Case(
        label="breach",
        forms=("portal.owner.privacy_forms:BreachForm",),
        persona="owner",
        path=lambda w: "/owner/privacy/breaches",
        valid=lambda w: {
            "breach-discovered_at": WHEN,
            "breach-description": "A laptop was stolen.",
            "breach-staff_account": str(w.staff.id),
            "breach-ip_address": "",
            "breach-window_start": "2024-04-01T00:00",
            "breach-window_end": WHEN,
        },
        fields={
            "breach-discovered_at": "datetime",
            "breach-description": "text",
            "breach-staff_account": choice("", "1", "2"),
            "breach-ip_address": choice("203.0.113.7", "2001:db8::1", "::ffff:1.2.3.4", "1.2.3"),
            "breach-window_start": "datetime",
            "breach-window_end": "datetime",
        },
        check_saved=breach_saved,
    ),
    Case(
        label="authority-notified",
        forms=("portal.owner.privacy_forms:AuthorityNotifiedForm",),
        persona="owner",
        path=lambda w: f"/owner/privacy/breaches/{w.fresh_breach().id}/notified",
        valid=lambda w: {f"notified-{w.slots['breach']}-notified_at": _local_minute()},
        fields={"notified-{breach}-notified_at": "datetime"},
    ),
    Case(
        label="privacy-periods",
        forms=("portal.owner.privacy_forms:PrivacyPeriodsForm",),
        persona="owner",
        path=lambda w: "/owner/privacy/periods",
        valid=lambda w: {
            "retention_lead_months": "24",
            "retention_customer_years": "6",
            "request_deadline_days": "30",
            "erasure_grace_days": "14",
        },
        fields={
            "retention_lead_months": "number",
            "retention_customer_years": "number",
            "request_deadline_days": "number",
            "erasure_grace_days": "number",
        },
        check_saved=periods_saved,
    ),
    Case(
        label="processing",
        forms=("portal.owner.processing_forms:ProcessingSettingsForm",),
        persona="owner",
        path=lambda w: "/owner/settings/processing",
        valid=lambda w: {
            "business_name": "Herbaciarnia Pod Lipą",
            "business_address": "ul. Długa 1\r\n80-001 Gdańsk",
            "privacy_contact": "privacy@example.com",
            "recipients": "Our accountant",
            "transfers": "",
            "security_measures": "Locked office",
        },
        fields={
            "business_name": "text",
            "business_address": "text",
            "privacy_contact": "text",
            "recipients": "text",
            "transfers": "text",
            "security_measures": "text",
        },
        check_saved=processing_saved,
    ),
    Case(
        label="retention-apply",
        forms=("portal.owner.erasure_forms:ConfirmForm",),
        persona="owner",
        path=lambda w: "/owner/privacy/retention/apply",
        valid=lambda w: {},
        fields=CSRF_ONLY,
        refusals=frozenset({400}),
        examples=5,
    ),
    # --- The customer area -------------------------------------------------------------------
    Case(
        label="my-details",
        forms=("portal.customer.details_forms:CustomerDetailsForm",),
        persona="customer",
        path=lambda w: "/me/details",
        valid=lambda w: {
            name: value
            for name, value in _customer_form_values(w.customer).items()
            if name in DETAILS_FIELDS
        },
        fields=DETAILS_FIELDS,
        examples=25,
        check_saved=details_saved,
    ),
    Case(
        label="my-consent",
        explicit=(
            {"version": "99999999999999999999"},
            {"version": "2147483648"},
        ),
        forms=("portal.customer.details_forms:ConsentChoiceForm",),
        persona="customer",
        path=lambda w: f"/me/consent/{w.purpose.id}",
        valid=lambda w: {"granted": "1", "version": "1"},
        fields={"granted": choice("0", "1"), "version": "number"},
        refusals=frozenset({400}),
    ),
    Case(
        label="my-complaint",
        forms=("portal.customer.complaint_forms:CustomerComplaintForm",),
        persona="customer",
        path=lambda w: "/me/complaints",
        valid=lambda w: {
            "subject": "Late delivery",
            "description": "It came a week late.",
            "category": "delivery",
        },
        fields={"subject": "text", "description": "text", "category": choice("delivery", "x")},
        check_saved=complaint_saved(""),
    ),
    Case(
        label="my-reply",
        forms=("portal.customer.complaint_forms:CustomerReplyForm",),
        persona="customer",
        path=lambda w: f"/me/complaints/{w.complaint.id}/replies",
        valid=lambda w: {"body": "Thank you."},
        fields={"body": "text"},
        check_saved=message_saved,
    ),
    Case(
        label="erase-me",
        forms=("portal.customer.complaint_forms:EraseMeForm",),
        persona="customer",
        path=lambda w: "/me/erase",
        valid=lambda w: {},
        fields=CSRF_ONLY,
        refusals=frozenset({400}),
        examples=8,
    ),
    Case(
        label="my-language",
        explicit=BACKSLASH_AND_TAB_NEXT,
        forms=("portal.customer.forms:CustomerLanguageForm",),
        persona="customer",
        path=lambda w: "/me/language",
        valid=lambda w: {"language": "pl", "next": "/me/details"},
        fields={
            "language": choice("pl", "zh", "de"),
            "next": next_targets("/me/", "/me/../owner"),
        },
    ),
    Case(
        label="link-request",
        forms=("portal.customer.forms:LinkRequestForm",),
        persona="public",
        path=lambda w: "/me/sign-in",
        valid=lambda w: {"email": "anna@example.com"},
        fields={"email": "email"},
        check_saved=lambda w, sent, page: None,
    ),
    # --- Signing in, the language switcher, the rating link ----------------------------------
    Case(
        label="sign-in",
        forms=("portal.auth.forms:SignInForm",),
        persona="public",
        path=lambda w: "/sign-in",
        valid=lambda w: {"email": "staff@example.com", "password": "not the password"},
        fields={"email": "email", "password": "text"},
        refusals=frozenset({200, 422}),
        ignored_actions=("sign_in_failed",),
        fresh_token=True,
    ),
    Case(
        label="language",
        explicit=BACKSLASH_AND_TAB_NEXT,
        forms=("portal.auth.forms:LanguageForm",),
        persona="staff",
        path=lambda w: "/language",
        valid=lambda w: {"language": "pl", "next": "/customers"},
        fields={
            "language": choice("pl", "zh", "de"),
            "next": next_targets("/"),
        },
    ),
    Case(
        label="rate",
        forms=("portal.auth.rating_views:RatingForm",),
        persona="public",
        path=lambda w: f"/rate/{w.rating_token()}",
        valid=lambda w: {"score": "4", "comment": "Quick, thank you."},
        fields={"score": choice("1", "5", "0", "6"), "comment": "text"},
        saved_when=lambda r: r.status_code == 200,
        check_saved=rating_saved,
    ),
    Case(
        label="second-step",
        explicit=({"code": "²²²²²²"}, {"code": "١٢٣٤٥٦"}),
        forms=("portal.auth.forms:SecondStepForm",),
        persona="public",
        path=second_step_target,
        valid=lambda w: {"code": "000000"},
        fields={"code": "text"},
        ignored_actions=("two_factor_failed",),
        fresh_token=True,
        token_page="/sign-in/code",
    ),
    # --- My account and the owner's actions on staff accounts --------------------------------
    Case(
        label="my-password",
        forms=("portal.staff.account_forms:PasswordChangeForm",),
        persona="staff",
        path=lambda w: "/account/password",
        valid=lambda w: {
            "current_password": w.slots.get("password", PASSWORD),
            "new_password": "a new long password",
            "repeat_password": "a new long password",
        },
        fields={"current_password": "text", "new_password": "text", "repeat_password": "text"},
        fresh_token=True,  # a changed password starts a new session
        check_saved=password_changed,
    ),
    Case(
        label="two-factor-setup",
        explicit=({"code": "²²²²²²"}, {"code": "١٢٣٤٥٦"}),
        forms=("portal.staff.account_forms:TwoFactorSetupForm",),
        persona="staff",
        path=two_factor_target,
        valid=lambda w: {"code": "000000"},
        fields={"code": "text"},
    ),
    Case(
        label="recovery-codes",
        forms=("portal.staff.account_forms:PasswordConfirmForm",),
        persona="owner",
        path=lambda w: "/account/recovery-codes",
        valid=lambda w: {"password": "not the password"},
        fields={"password": "text"},
    ),
    Case(
        label="reset-password",
        forms=("portal.owner.forms:ResetPasswordForm",),
        persona="owner",
        path=lambda w: f"/owner/staff/{w.staff.id}/password",
        valid=lambda w: {"password": "a new first password"},
        fields={"password": "text"},
        check_saved=password_reset,
    ),
    Case(
        label="role",
        forms=("portal.owner.forms:RoleForm",),
        persona="owner",
        path=lambda w: f"/owner/staff/{w.staff.id}/role",
        valid=lambda w: {"role": "owner"},
        fields={"role": choice("staff", "owner")},
        refusals=frozenset({400}),
        check_saved=role_changed,
        examples=10,
    ),
]


def _local_minute() -> str:
    return (datetime.now() - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")


# --- The tests -------------------------------------------------------------------------------


def test_every_form_has_a_hostile_input_case():
    """A form added to portal/ without an entry in CASES fails here, by name."""
    forms = portal_forms()
    covered = {name for entry in CASES for name in entry.forms}
    missing = sorted(forms - covered)
    assert not missing, (
        "These forms get no hostile input yet; add an entry to CASES in "
        f"tests/test_hostile_input.py: {', '.join(missing)}"
    )
    assert not covered - forms, f"CASES names forms that no longer exist: {covered - forms}"


def _submissions(fields: dict):
    """One to three fields (or, now and then, every field) with hostile values."""
    names = sorted(fields)
    some = st.lists(st.sampled_from(names), min_size=1, max_size=min(3, len(names)), unique=True)
    chosen = st.one_of(some, some, some, st.just(names))
    return chosen.flatmap(
        lambda picked: st.fixed_dictionaries({name: _strategy(fields[name]) for name in picked})
    )


# Values at the edges, put into every field of their kind at once (choices keep their valid
# value): each case starts with these.
EDGES = {
    "text": ["Anna\x00Nowak", "\x1b[31m\x7f", "Ł" * 20_001],
    "search": ["Anna\x00Nowak", "x" * 5_000],
    "number": ["NaN", "1e309", "-99999999999999999999999"],
    "date": ["0001-01-01", "9999-12-31"],
    "datetime": ["0001-01-01T00:00", "9999-12-31T23:59"],
    "email": ["a\x00@example.com"],
    "phone": ["+48\x00601555012"],
}


def edge_examples(fields: dict) -> list[dict]:
    examples = []
    for kind, values in EDGES.items():
        names = [name for name, spec in fields.items() if _kind(spec) == kind]
        examples.extend({name: value for name in names} for value in values if names)
    return examples


def _kind(spec) -> str:
    return "choice" if isinstance(spec, tuple) else spec


def _strategy(kind):
    if isinstance(kind, tuple):
        return value_for(kind[0], kind[1])
    return value_for(kind)


def _flat(values) -> list[str]:
    flat = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [str(v) for v in flat]


def _is_local(location: str) -> bool:
    """Whether a browser following this Location stays on the site: browsers drop tabs and
    line breaks, trim control characters and spaces, and read a backslash as a slash."""
    seen = re.sub(r"[\t\n\r]", "", location).strip("".join(map(chr, range(0x21))))
    seen = seen.replace("\\", "/")
    parts = urlsplit(seen)
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost")


@pytest.mark.parametrize("entry", CASES, ids=lambda entry: entry.id)
def test_hostile_values_are_refused_or_saved_as_given(app, owner, staff_member, entry):
    world = World(app, owner, staff_member)
    client = world.client(entry.persona)
    token_page = {
        "staff": "/customers/new",
        "owner": "/owner/staff",
        "customer": "/me/details",
        "public": "/sign-in",
    }[entry.persona]
    token_page = entry.token_page or token_page
    tokens = {"now": csrf_token_from(client, token_page)} if not entry.fresh_token else {}

    def post(hostile: dict):
        path = entry.path(world)
        names = {key: key.format(**world.slots) for key in hostile}
        hostile = {names[key]: value for key, value in hostile.items()}
        sent = {**entry.valid(world), **hostile}
        if entry.fresh_token:
            tokens["now"] = csrf_token_from(client, token_page)
        before = database_fingerprint(entry.ignored_actions)
        if entry.method == "GET":
            response = client.get(path, query_string=sent)
        else:
            data = entry.to_request(sent) if entry.to_request else dict(sent)
            data.setdefault("csrf_token", tokens["now"])
            content_type = "multipart/form-data" if entry.to_request else None
            response = client.post(path, data=data, content_type=content_type)
        assert response.status_code < 500, response.status_code
        values = _flat(hostile.values())
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        assert_escaped(body, values)
        after = database_fingerprint(entry.ignored_actions)

        if entry.method == "GET":
            assert response.status_code in (200, 422), response.status_code
            assert changed_tables(before, after) == [], "a filter changed the database"
            if response.status_code == 422:
                assert ERROR_MARKUP.search(body), "refused without a message"
            return
        if entry.saved_when(response):
            if redirected(response):
                location = response.headers["Location"]
                assert _is_local(location), f"redirected off the site: {location}"
                page = client.get(location)
                assert page.status_code < 500
                if page.mimetype == "text/html":
                    assert_escaped(page.get_data(as_text=True), values)
            else:
                page = response
            if entry.check_saved and not ERROR_MARKUP.search(body):
                entry.check_saved(world, sent, page)
            return
        assert response.status_code in entry.refusals, (response.status_code, body[:2000])
        if response.status_code in (200, 422):
            assert ERROR_MARKUP.search(body), "refused without a message next to the field"
        assert changed_tables(before, after) == [], "a refused form changed the database"

    post = given(hostile=_submissions(entry.fields))(post)
    for kept in [*edge_examples(entry.fields), *entry.explicit]:
        post = example(hostile=kept)(post)
    post = settings(
        max_examples=entry.examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(post)
    post = seed(zlib.crc32(entry.id.encode()))(post)
    post()


# --- The search boxes ------------------------------------------------------------------------

HTMX = {"HX-Request": "true"}
# Customers whose names are themselves hostile, so that results carry markup to escape.
HOSTILE_CUSTOMERS = [
    ('<script>alert("kx")</script>', "Nowak", "given_first"),
    ('"><img src=x onerror=alert(1)>', "O'Brien", "given_first"),
    ("伟", "张", "family_first"),
    ("Łukasz", "Żółć-Wąsowski", "given_first"),
    ("Zoe\u0301", "' OR 1=1 --", "given_first"),
]
# The quick search (page and live partial), the customer list's text filters, and the
# likely-duplicates warning shown while a new customer is typed in.
SEARCHES = [
    ("/search", "q", {}),
    ("/search", "q", HTMX),
    ("/customers", "tag", {}),
    ("/customers", "city", HTMX),
    ("/customers/likely-duplicates", "family_name", HTMX),
    ("/customers/likely-duplicates", "email", HTMX),
    ("/customers/likely-duplicates", "phone", HTMX),
    ("/customers/likely-duplicates", "exclude", HTMX),
]


@pytest.mark.parametrize("persona", ["staff", "owner"])
def test_search_boxes_answer_hostile_queries_and_escape_results(app, owner, staff_member, persona):
    world = World(app, owner, staff_member)
    client = world.client(persona)
    found = [
        make_customer(given, family, order=order, email=f"kx{n}@example.com", tags=("kx",))
        for n, (given, family, order) in enumerate(HOSTILE_CUSTOMERS)
    ]
    names = [customer.display_name for customer in found]
    for customer, query in zip(found, ("Nowak", "O'Brien", "伟", "lukasz", "OR 1=1"), strict=True):
        page = client.get("/search", query_string={"q": query}, headers=HTMX)
        assert str(escape(customer.display_name)) in page.get_data(as_text=True), query
        assert_escaped(page.get_data(as_text=True), names)
    listing = client.get("/customers", query_string={"tag": "kx"}).get_data(as_text=True)
    assert all(str(escape(name)) in listing for name in names)

    @settings(max_examples=30, deadline=None, database=None)
    @seed(zlib.crc32(b"search"))
    @given(query=value_for("search"))
    @example(query="Anna\x00Nowak")
    @example(query="x" * 5_000)
    @example(query="99999999999999999999")
    @example(query='"*NEAR( AND OR NOT % _ \\')
    def ask(query):
        before = database_fingerprint()
        for path, name, headers in SEARCHES:
            response = client.get(path, query_string={name: query}, headers=headers)
            body = response.get_data(as_text=True)
            if path == "/customers" and response.status_code == 422:
                assert ERROR_MARKUP.search(body), "a refused filter says why"
            else:
                assert response.status_code == 200, (path, response.status_code)
            assert_escaped(body, [query, *names])
        assert changed_tables(before, database_fingerprint()) == []

    ask()


# --- Record numbers in addresses ---------------------------------------------------------------

TOO_LARGE = "99999999999999999999"  # beyond any id column (SQLite's integers end at 2**63)


@pytest.mark.parametrize(
    "persona, path",
    [
        ("staff", f"/customers/{TOO_LARGE}"),
        ("staff", f"/complaints/{TOO_LARGE}"),
        ("owner", f"/owner/privacy/breaches/{TOO_LARGE}"),
        ("customer", f"/me/complaints/{TOO_LARGE}"),
    ],
)
def test_a_record_number_too_large_for_any_id_is_not_found(app, owner, staff_member, persona, path):
    client = World(app, owner, staff_member).client(persona)
    assert client.get(path).status_code == 404
