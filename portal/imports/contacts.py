"""E-mail addresses and phone numbers normalised as the staff forms do it, fast enough for
an import of a million rows (customers.normalize_email and normalize_phone take 20-30 µs)."""

import re
from functools import cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from .. import customers

_PLAIN_LOCAL_PART = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
_PHONE_SEPARATORS = re.compile(r"[\s\-().\u00a0\u2010-\u2015/]")
# Caches stay small so memory stays flat: domains repeat across a file, a phone number mostly
# within a row (Shopify's "Phone" and "Default Address Phone").
_DOMAIN_CACHE_LIMIT = 20_000
_PHONE_CACHE_LIMIT = 1_000


class ContactValidator:
    """E-mail and phone normalisation as in the staff forms (customers.normalize_email and
    normalize_phone), fast for the common shapes of a large import.

    email-validator and phonenumbers take 20-30 µs a value, most of it spent looking up and
    re-checking the same rules. An ordinary address (ASCII dot-atom local part) needs only
    its domain checked, and domains repeat, so each domain goes through email-validator
    once. A phone number written with its country code (or in the default region's form
    without a trunk or international prefix) is checked against phonenumbers' own metadata,
    compiled once per country (`_CountryRules`). Every other shape, and every failure, goes
    through the full functions, which also name the reason. tests/test_import_rows.py
    compares both paths on generated numbers and addresses.
    """

    def __init__(self, default_region: str):
        self.region = default_region.upper()
        self._region_code = phonenumbers.country_code_for_region(self.region)
        self._domains: dict[str, str | None] = {}
        self._phones: dict[str, tuple] = {}  # text -> (shown, E.164) or (None, reason)

    def email(self, text: str) -> tuple[str, str]:
        """(address as shown, lower-cased key); customers.InvalidEmail if it is not valid."""
        local, at, domain = text.rpartition("@")
        if at and len(local) <= 64 and _PLAIN_LOCAL_PART.fullmatch(local):
            normalized_domain = self._domain(domain)
            if normalized_domain is not None:
                address = f"{local}@{normalized_domain}"
                if len(address) <= 254:
                    return address, address.lower()
        return customers.normalize_email(text)

    def _domain(self, domain: str) -> str | None:
        try:
            return self._domains[domain]
        except KeyError:
            pass
        if len(self._domains) >= _DOMAIN_CACHE_LIMIT:
            self._domains.clear()
        try:
            normalized = validate_email("x@" + domain, check_deliverability=False).domain
        except EmailNotValidError:
            normalized = None
        self._domains[domain] = normalized
        return normalized

    def phone(self, text: str) -> tuple[str, str]:
        """(international format, E.164); customers.InvalidPhone if it is not a valid number."""
        text = text.lstrip("'").strip()
        result = self._phones.get(text)
        if result is None:
            try:
                result = self._fast_phone(text) or customers.normalize_phone(text, self.region)
            except customers.InvalidPhone as error:
                # Keep the reason, not the exception: raising one object again and again
                # would grow its traceback with every row.
                result = (None, (error.reason, error.region, error.explicit_country_code))
            if len(self._phones) >= _PHONE_CACHE_LIMIT:
                self._phones.clear()
            self._phones[text] = result
        if result[0] is None:
            raise customers.InvalidPhone(*result[1])
        return result

    def _fast_phone(self, text: str) -> tuple[str, str] | None:
        """The number if it has one of the plain shapes and is valid; None: ask phonenumbers."""
        explicit = text.startswith("+")
        digits = _PHONE_SEPARATORS.sub("", text[1:] if explicit else text)
        if not (digits.isascii() and digits.isdigit()) or not 6 <= len(digits) <= 17:
            return None
        if explicit:
            if digits[0] == "0":
                return None  # no country code starts with 0
            for length in (1, 2, 3):
                code = int(digits[:length])
                if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                    break
            else:
                return None
            national = digits[length:]
        else:
            code, national = self._region_code, digits
            if not code or national.startswith(str(code)):
                return None  # maybe a country code without "+": leave it to phonenumbers
        rules = _country_rules(code)
        if rules is None or national.startswith("0") or rules.has_prefix(national, explicit):
            return None  # leading zeros (Italy), trunk and international prefixes
        if not rules.is_valid(national):
            return None
        return rules.international(national), f"+{code}{national}"


_CODE_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


class _CountryRules:
    """phonenumbers' validity check and international format for one country calling code,
    as its is_valid_number and format_number do them, with the patterns compiled once."""

    def __init__(self, code: int, metadata):
        self.code = code
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
        # A code shared by several regions (+1, +7, +44) needs phonenumbers' region choice.
        self.shared = len(regions) > 1
        self.general = _desc(metadata.general_desc)
        types = [rule for rule in (_desc(getattr(metadata, t)) for t in _CODE_TYPES) if rule]
        # A number is valid when it fits the general description and any type (fixed line,
        # mobile, toll free...): per length, the types that allow it, as one alternation.
        self.types_by_length = {}
        for length in range(1, 18):
            patterns = [p.pattern for lengths, p in types if not lengths or length in lengths]
            if patterns:
                alternation = "|".join(f"(?:{pattern})" for pattern in patterns)
                self.types_by_length[length] = re.compile(alternation)
        formats = metadata.intl_number_format or metadata.number_format
        self.formats = [
            (
                re.compile(form.leading_digits_pattern[-1])
                if form.leading_digits_pattern
                else None,
                re.compile(form.pattern),
                _format_template(form.format),
                form.format,
            )
            for form in formats
        ]
        trunk = metadata.national_prefix_for_parsing or metadata.national_prefix or ""
        self.trunk_prefix = re.compile(trunk) if trunk else None
        idd = metadata.international_prefix or ""
        self.international_prefix = re.compile(idd) if idd else None

    def has_prefix(self, national: str, explicit: bool) -> bool:
        """phonenumbers would strip a trunk prefix (or, without "+", an international one)."""
        if self.trunk_prefix is not None and self.trunk_prefix.match(national):
            return True
        return (
            not explicit
            and self.international_prefix is not None
            and bool(self.international_prefix.match(national))
        )

    def is_valid(self, national: str) -> bool:
        if self.shared:
            number = phonenumbers.PhoneNumber(country_code=self.code, national_number=int(national))
            return phonenumbers.is_valid_number(number)
        types = self.types_by_length.get(len(national))
        return (
            types is not None
            and _matches(self.general, national)
            and types.fullmatch(national) is not None
        )

    def international(self, national: str) -> str:
        for leading, pattern, template, rule in self.formats:
            if leading is None or leading.match(national):
                match = pattern.fullmatch(national)
                if match is not None:
                    if template is not None:
                        return f"+{self.code} {template.format(*match.groups())}"
                    return f"+{self.code} {match.expand(rule)}"
        return f"+{self.code} {national}"


def _format_template(rule: str) -> str | None:
    """phonenumbers' format rule ("\\1 \\2-\\3") as a str.format template ("{0} {1}-{2}"), or
    None when it holds anything but group references and plain characters."""
    if not re.fullmatch(r"(?:\\[1-9]|[^\\{}$])*", rule):
        return None
    return re.sub(r"\\([1-9])", lambda m: f"{{{int(m[1]) - 1}}}", rule)


def _desc(desc) -> tuple[frozenset, re.Pattern] | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


def _matches(rule, national: str) -> bool:
    if rule is None:
        return False
    lengths, pattern = rule
    if lengths and len(national) not in lengths:
        return False
    return pattern.fullmatch(national) is not None


@cache
def _country_rules(code: int) -> _CountryRules | None:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
    return None if metadata is None else _CountryRules(code, metadata)
