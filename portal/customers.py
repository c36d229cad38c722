"""Creating and editing customers: normalisation, display names, writes, likely duplicates.

Plain functions over the models (no request): the staff views, the CLI and tests call them.
Every write runs in one transaction with the search refresh and its audit event, so a failure
leaves nothing half-written. Audit events name the fields that changed, never their values.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from rapidfuzz import fuzz

from . import audit, search, settings
from .db import write_transaction
from .extensions import db
from .models import Address, ContactPoint, Customer, CustomerTag, Tag, utcnow

GENDER_UNDISCLOSED = "prefer_not_to_say"
NAME_ORDERS = ("given_first", "family_first")
LANGUAGES = ("en", "ru", "pl", "zh")
TAG_MAX_LENGTH = 60
MAX_TAGS = 30

# Plain columns of the customer row, as the form names them.
ROW_FIELDS = (
    "given_name",
    "family_name",
    "name_order",
    "company",
    "preferred_channel",
    "preferred_language",
    "birth_date",
    "gender",
    "note",
    "source",
    "source_detail",
)
CONTACT_FIELDS = {"email": ("email", "email2"), "phone": ("phone", "phone2")}
ADDRESS_FIELDS = {
    "address_line1": "line1",
    "address_line2": "line2",
    "postal_code": "postal_code",
    "city": "city",
    "country": "country",
}
# Every field name update_customer can report as changed, in form order.
FIELDS = (
    "given_name",
    "family_name",
    "name_order",
    "company",
    "email",
    "email2",
    "phone",
    "phone2",
    *ADDRESS_FIELDS,
    "preferred_channel",
    "preferred_language",
    "birth_date",
    "gender",
    "tags",
    "note",
    "source",
    "source_detail",
)

# Likely duplicates: candidates per name query, how many to show, how similar a name must be.
DUPLICATE_CANDIDATES = 30
DUPLICATE_LIMIT = 8
NAME_SIMILARITY = 85


class InvalidEmail(ValueError):
    pass


class InvalidPhone(ValueError):
    """A phone number that cannot be stored; `reason` says why, for a precise message.

    not_a_number: no digits to speak of; unknown_country_code: "+999..."; invalid: the digits
    do not make a number of `region` (the default region, or the one its country code names).
    """

    def __init__(self, reason: str, region: str = "", explicit_country_code: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.region = region
        self.explicit_country_code = explicit_country_code


class InvalidTag(ValueError):
    def __init__(self, tag: str):
        super().__init__(tag)
        self.tag = tag


# --- normalisation -----------------------------------------------------------------------


def normalize_email(text: str) -> tuple[str, str]:
    """(value to show, lower-cased value to match on) for an e-mail address, or InvalidEmail."""
    try:
        valid = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from error
    return valid.normalized, valid.normalized.lower()


def default_phone_region() -> str:
    return settings.get("default_phone_region") or "PL"


def normalize_phone(text: str, region: str | None = None) -> tuple[str, str]:
    """(international format to show, E.164) for a phone typed with or without country code."""
    region = region or default_phone_region()
    stripped = text.strip()
    explicit = stripped.startswith("+") or stripped.startswith("00")
    try:
        number = phonenumbers.parse(stripped, region, keep_raw_input=True)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.NOT_A_NUMBER:
            raise InvalidPhone("not_a_number", region) from error
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise InvalidPhone("unknown_country_code", region, True) from error
        raise InvalidPhone("invalid", region, explicit) from error
    explicit = number.country_code_source in (
        phonenumbers.CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN,
        phonenumbers.CountryCodeSource.FROM_NUMBER_WITH_IDD,
    )
    if not phonenumbers.is_valid_number(number):
        number_region = phonenumbers.region_code_for_country_code(number.country_code)
        if explicit and number_region == phonenumbers.UNKNOWN_REGION:
            raise InvalidPhone("unknown_country_code", region, True)
        raise InvalidPhone("invalid", number_region if explicit else region, explicit)
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
    )


def example_phone(region: str) -> str:
    """A sample mobile number of the region in international format, for messages and hints."""
    number = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    if number is None:
        return "+48 512 345 678"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_TAG_SEPARATORS = re.compile(r"[,，、;；]")


def parse_tags(text: str | Iterable[str]) -> list[str]:
    """Tag names from comma-separated input: trimmed, lower-cased, unique, in order given."""
    parts = _TAG_SEPARATORS.split(text) if isinstance(text, str) else list(text)
    tags: dict[str, None] = {}
    for part in parts:
        name = " ".join(part.split()).lower()
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            raise InvalidTag(name)
        tags.setdefault(name, None)
    return list(tags)


def display_name(given: str, family: str, order: str) -> str:
    """The name as its owner writes it: "Anna Nowak", "Nagy Anna", "张伟"."""
    given, family = given.strip(), family.strip()
    if order == "family_first":
        if given and family and all(search.is_han(c) for c in given + family):
            return family + given
        return " ".join(part for part in (family, given) if part)
    return " ".join(part for part in (given, family) if part)


# --- reading a customer as form values -----------------------------------------------------


def _contact_slots(customer_id: int, kind: str) -> list[ContactPoint]:
    """The first two contact points of a kind: the primary one, then a second one."""
    return list(
        ContactPoint.select()
        .where((ContactPoint.customer == customer_id) & (ContactPoint.kind == kind))
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .limit(2)
    )


def _primary_address(customer_id: int) -> Address | None:
    return (
        Address.select()
        .where(Address.customer == customer_id)
        .order_by(Address.is_primary.desc(), Address.id)
        .first()
    )


def _tag_names(customer_id: int) -> list[str]:
    query = (
        Tag.select(Tag.name)
        .join(CustomerTag)
        .where(CustomerTag.customer == customer_id)
        .order_by(Tag.name)
    )
    return [tag.name for tag in query]


def form_values(customer: Customer) -> dict:
    """What the edit form shows for a customer, keyed like the form's fields."""
    stored = _stored(customer)
    values = {**stored.row, **stored.address, "tags": ", ".join(stored.tags)}
    for kind, names in CONTACT_FIELDS.items():
        pairs = stored.contacts[kind]
        for index, name in enumerate(names):
            values[name] = pairs[index][0] if index < len(pairs) else ""
    return values


# --- writing -------------------------------------------------------------------------------


@dataclass
class _Clean:
    """Input in the stored form; contacts as (shown, normalised) pairs."""

    row: dict
    contacts: dict[str, list[tuple[str, str]]]
    address: dict
    tags: list[str]

    def comparable(self) -> dict:
        """One value per field name, for telling what changed."""
        values = dict(self.row)
        for kind, names in CONTACT_FIELDS.items():
            for index, name in enumerate(names):
                pairs = self.contacts[kind]
                # Normalised: a number stored as typed by an import is not "changed" by
                # re-saving it in international format.
                values[name] = pairs[index][1] if index < len(pairs) else ""
        values.update(self.address)
        values["tags"] = sorted(self.tags)
        return values


def _stored(customer: Customer) -> _Clean:
    """What is stored for a customer, in the shape _clean produces."""
    address = _primary_address(customer.id)
    return _Clean(
        {name: getattr(customer, name) for name in ROW_FIELDS},
        {
            kind: [(p.value, p.normalized) for p in _contact_slots(customer.id, kind)]
            for kind in CONTACT_FIELDS
        },
        {
            name: getattr(address, column) if address else ""
            for name, column in ADDRESS_FIELDS.items()
        },
        _tag_names(customer.id),
    )


def _text(data: dict, name: str, default: str = "") -> str:
    value = data.get(name)
    return default if value is None else str(value).strip()


def _clean(data: dict) -> _Clean:
    """Normalise input (from the form, the CLI or a test) into what is stored."""
    row = {name: _text(data, name) for name in ROW_FIELDS if name != "birth_date"}
    row["name_order"] = row["name_order"] if row["name_order"] in NAME_ORDERS else "given_first"
    row["preferred_channel"] = row["preferred_channel"] or "email"
    row["preferred_language"] = row["preferred_language"] or "en"
    row["source"] = row["source"] or "in_store"
    birth = data.get("birth_date")
    row["birth_date"] = date.fromisoformat(birth) if isinstance(birth, str) and birth else birth
    if not (row["given_name"] or row["family_name"]):
        raise ValueError("a customer needs a given name or a family name")
    region = default_phone_region()
    contacts = {}
    for kind, names in CONTACT_FIELDS.items():
        pairs: dict[str, tuple[str, str]] = {}
        for name in names:
            typed = _text(data, name)
            if typed:
                pair = normalize_email(typed) if kind == "email" else normalize_phone(typed, region)
                pairs.setdefault(pair[1], pair)
        contacts[kind] = list(pairs.values())
    address = {name: _text(data, name) for name in ADDRESS_FIELDS}
    address["country"] = address["country"].upper()
    tags = parse_tags(data.get("tags") or "")
    return _Clean(row, contacts, address, tags)


def _has_address(address: dict) -> bool:
    # A country alone (the form preselects one) is not an address.
    return any(address[name] for name in ADDRESS_FIELDS if name != "country")


def _write_contacts(customer_id: int, kind: str, pairs: list[tuple[str, str]]) -> None:
    """Make the first two contact points of a kind hold these; others are left as they are."""
    slots = _contact_slots(customer_id, kind)
    for index in range(2):
        point = slots[index] if index < len(slots) else None
        wanted = pairs[index] if index < len(pairs) else None
        if point and not wanted:
            point.delete_instance()
        elif wanted and not point:
            ContactPoint.create(
                customer=customer_id,
                kind=kind,
                value=wanted[0],
                normalized=wanted[1],
                is_primary=index == 0,
            )
        elif point and wanted:
            point.value, point.normalized, point.is_primary = wanted[0], wanted[1], index == 0
            point.save()


def _write_address(customer_id: int, values: dict) -> None:
    address = _primary_address(customer_id)
    columns = {column: values[name] for name, column in ADDRESS_FIELDS.items()}
    if not _has_address(values):
        if address:
            address.delete_instance()
        return
    if address is None:
        Address.create(customer=customer_id, is_primary=True, **columns)
        return
    for column, value in columns.items():
        setattr(address, column, value)
    address.is_primary = True
    address.save()


def _write_tags(customer_id: int, names: list[str]) -> None:
    wanted = set(names)
    current = {
        link.tag.name: link
        for link in CustomerTag.select(CustomerTag, Tag)
        .join(Tag)
        .where(CustomerTag.customer == customer_id)
    }
    for name, link in current.items():
        if name not in wanted:
            link.delete_instance()
    for name in names:
        if name not in current:
            tag, _created = Tag.get_or_create(name=name)
            CustomerTag.create(customer=customer_id, tag=tag)


def _row_columns(clean: _Clean) -> dict:
    row = dict(clean.row)
    row["display_name"] = display_name(row["given_name"], row["family_name"], row["name_order"])
    return row


def _audit(
    action: str,
    customer_id: int,
    actor_id: int | None,
    ip_address: str,
    fields: list[str],
    actor_type: str | None = None,
):
    """Record a create or edit with the names of the fields involved, never their values."""
    audit.record(
        action,
        actor_type=actor_type or ("staff" if actor_id else "system"),
        actor_id=actor_id,
        target_type="customer",
        target_id=customer_id,
        ip_address=ip_address,
        fields=fields,
    )


def create_customer(data: dict, actor_id: int | None, *, ip_address: str = "") -> Customer:
    """Create a customer with contacts, address and tags, indexed for search and audited."""
    clean = _clean(data)
    filled = [name for name, value in clean.comparable().items() if value]
    with write_transaction(db):
        customer = Customer.create(
            **_row_columns(clean),
            # Data from a bought list is less trusted until someone confirms it (SPEC 2).
            external=clean.row["source"] == "vendor_list",
        )
        for kind, pairs in clean.contacts.items():
            _write_contacts(customer.id, kind, pairs)
        if _has_address(clean.address):
            _write_address(customer.id, clean.address)
        _write_tags(customer.id, clean.tags)
        search.refresh([customer.id])
        _audit(
            "customer_created",
            customer.id,
            actor_id,
            ip_address,
            [n for n in FIELDS if n in filled],
        )
    return customer


def update_customer(
    customer: Customer,
    data: dict,
    actor_id: int | None,
    *,
    ip_address: str = "",
    actor_type: str | None = None,
) -> list[str]:
    """Apply the edit form to a customer; return the names of the fields that changed.

    actor_type "customer" (with actor_id the customer's id) when they correct it themselves.
    """
    clean = _clean(data)
    with write_transaction(db):
        before = _stored(Customer.get_by_id(customer.id)).comparable()
        after = clean.comparable()
        changed = [name for name in FIELDS if before[name] != after[name]]
        if not changed:
            return []
        columns = {**_row_columns(clean), "updated_at": utcnow()}
        Customer.update(**columns).where(Customer.id == customer.id).execute()
        for name, value in columns.items():
            setattr(customer, name, value)
        for kind, pairs in clean.contacts.items():
            _write_contacts(customer.id, kind, pairs)
        _write_address(customer.id, clean.address)
        _write_tags(customer.id, clean.tags)
        search.refresh([customer.id])
        _audit("customer_updated", customer.id, actor_id, ip_address, changed, actor_type)
    return changed


# --- likely duplicates ---------------------------------------------------------------------


@dataclass
class DuplicateMatch:
    customer: Customer
    reasons: list[str] = field(default_factory=list)  # "email", "phone", "name"
    score: float = 0.0


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def _comparable_name(*parts: str) -> str:
    return " ".join(search.words(" ".join(parts)))


def duplicate_matches(
    given: str,
    family: str,
    email: str | Iterable[str] = "",
    phone: str | Iterable[str] = "",
    exclude_id: int | None = None,
) -> list[DuplicateMatch]:
    """Customers who are probably this person, with why: same e-mail or phone, similar name.

    Bounded: exact matches use the (kind, normalized) index; names are scored only among a few
    search candidates, never across the whole table.
    """
    matches: dict[int, DuplicateMatch] = {}
    wanted: list[tuple[str, str]] = []
    for typed in _as_list(email):
        try:
            wanted.append(("email", normalize_email(typed)[1]))
        except InvalidEmail:
            continue
    region = default_phone_region()
    for typed in _as_list(phone):
        try:
            wanted.append(("phone", normalize_phone(typed, region)[1]))
        except InvalidPhone:
            continue
    for kind, normalized in wanted:
        # Customer.active() decides who is still in the workspace (not erased, not merged away).
        same = (
            Customer.active()
            .join(ContactPoint)
            .where((ContactPoint.kind == kind) & (ContactPoint.normalized == normalized))
            .limit(DUPLICATE_LIMIT)
        )
        for customer in same:
            if customer.id != exclude_id:
                match = matches.setdefault(customer.id, DuplicateMatch(customer, [], 100.0))
                if kind not in match.reasons:
                    match.reasons.append(kind)

    name = _comparable_name(given, family)
    if len(name.replace(" ", "")) >= 2:
        candidates: dict[int, search.Match] = {}
        # The whole name finds prefixes ("Ann Nowak"); each part alone survives a typo in the other.
        for query in dict.fromkeys([f"{given} {family}", family, given]):
            if query.strip():
                for customer in search.find(query, limit=DUPLICATE_CANDIDATES).customers:
                    candidates.setdefault(customer.id, customer)
        for customer in candidates.values():
            if customer.id == exclude_id:
                continue
            # search results carry the display name only; token order does not matter here
            score = fuzz.token_sort_ratio(name, _comparable_name(customer.display_name))
            if score >= NAME_SIMILARITY:
                match = matches.setdefault(customer.id, DuplicateMatch(customer, [], score))
                match.reasons.append("name")

    found = list(matches.values())
    found.sort(key=lambda m: (-len(m.reasons), -m.score, m.customer.display_name))
    return found[:DUPLICATE_LIMIT]


def likely_duplicates(
    given: str,
    family: str,
    email: str | Iterable[str] = "",
    phone: str | Iterable[str] = "",
    exclude_id: int | None = None,
) -> list[Customer]:
    """Customers who are probably this person (same e-mail or phone, or a similar name)."""
    return [m.customer for m in duplicate_matches(given, family, email, phone, exclude_id)]
