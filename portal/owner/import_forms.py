"""Forms of the import pages: the upload, and the mapping with the import's options.

The mapping form has a select per column of the file and per active consent purpose, so its
class is built for each file (`mapping_form`); its fixed fields are the reading, value,
duplicate, consent, source and language options of portal/imports/staging.ImportOptions.
"""

import hashlib
from dataclasses import replace

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, RadioField, SelectChoice, StringField, ValidationError
from wtforms.validators import Length

from ..form_fields import ListField, no_control_characters
from ..i18n import LANGUAGE_NAMES
from ..imports.mapping import FIELDS, Mapping
from ..imports.staging import DUPLICATE_MODES, ImportOptions
from ..imports.values import currency_code


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class UploadForm(FlaskForm):
    file = FileField(
        _l("File (CSV or Excel)"),
        validators=[FileRequired(_l("Choose a CSV or Excel (XLSX) file to upload."))],
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )


class ActionForm(FlaskForm):
    """A button that changes an import (start, cancel, undo) or deletes a saved mapping."""


# --- The mapping form -----------------------------------------------------------------------

ENCODINGS = {
    "utf-8": _l("UTF-8"),
    "utf-8-sig": _l("UTF-8 with a byte order mark (Excel's “CSV UTF-8”)"),
    "windows-1250": _l("Windows-1250 (Central European, e.g. Polish)"),
    "windows-1251": _l("Windows-1251 (Cyrillic)"),
    "gb18030": _l("GB18030 (Chinese)"),
}
DELIMITERS = {
    ",": _l("Comma ( , )"),
    ";": _l("Semicolon ( ; )"),
    "\t": _l("Tab"),
    "|": _l("Vertical bar ( | )"),
}
DAY_FIRST = {
    "yes": _l("Day first: 03/04/2024 is 3 April"),
    "no": _l("Month first: 03/04/2024 is 4 March"),
}
DUPLICATES = {
    "skip": (
        _l("Skip them"),
        _l("The customer stays as it is here; the row is left out."),
    ),
    "update_fill": (
        _l("Fill in what is missing"),
        _l("Empty fields are filled from the file; new e-mails, phones and tags are added."),
    ),
    "update_overwrite": (
        _l("Update from the file"),
        _l("The file's values replace the ones here; empty cells change nothing."),
    ),
    "create": (
        _l("Create a new customer for every row"),
        _l("Only the same customer ID from the other system counts as the same customer."),
    ),
}
CONSENT_SOURCES = {
    "": _l("The file says nothing about this"),
    "column:accepts_email_marketing": _l("From the column “Accepts e-mail marketing”"),
    "column:accepts_sms_marketing": _l("From the column “Accepts SMS marketing”"),
    "everyone": _l("Everyone in this file agreed"),
}
LIST_KINDS = {
    "internal": _l("Our own customers (internal list)"),
    "external": _l("A list from elsewhere (bought or shared)"),
}
EVIDENCE_MAX_LENGTH = 300
VENDOR_MAX_LENGTH = 200


def headings_key(headers: list[str]) -> str:
    """A short fingerprint of the headings the column choices were made for."""
    return hashlib.sha256("\x1f".join(headers).encode()).hexdigest()[:20]


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class MappingForm(FlaskForm):
    """The fixed part of the mapping form; `mapping_form` adds the columns and purposes."""

    headings = HiddenField()
    encoding = ListField(_l("Character encoding"), choices=[], default="")
    delimiter = ListField(_l("Columns separated by"), choices=[], default="")
    sheet = ListField(_l("Sheet"), choices=[], default="")
    default_region = StringField(
        _l("Country of phone numbers without a country code"),
        filters=[_upper],
        render_kw={"maxlength": 2, "autocomplete": "off", "spellcheck": "false"},
    )
    day_first = ListField(_l("Dates such as 03/04/2024"), choices=_choices(DAY_FIRST))
    default_currency = StringField(
        _l("Currency of orders whose row does not say"),
        filters=[_upper],
        render_kw={"maxlength": 3, "autocomplete": "off", "spellcheck": "false"},
    )
    duplicates = RadioField(
        _l("Rows that match a customer already here"),
        choices=[SelectChoice(mode, DUPLICATES[mode][0]) for mode in DUPLICATE_MODES],
        validate_choice=False,
    )
    consent_evidence = StringField(
        _l("How they agreed (evidence)"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(max=EVIDENCE_MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
    )
    list_kind = RadioField(
        _l("Where the list comes from"), choices=_choices(LIST_KINDS), validate_choice=False
    )
    vendor = StringField(
        _l("Who the list comes from"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(max=VENDOR_MAX_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
    )
    default_language = ListField(
        _l("Language of customers whose row does not say"), choices=_choices(LANGUAGE_NAMES)
    )
    save_as = StringField(
        _l("Save this mapping as (optional)"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(max=100, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "off"},
    )

    # Set by mapping_form.
    headers: list[str] = []
    purposes: dict[int, str] = {}

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def consent_fields(self):
        return [self[f"consent_{pid}"] for pid in self.purposes]

    # Validation -------------------------------------------------------------------------

    def validate_duplicates(self, field):
        if field.data not in DUPLICATE_MODES:
            raise ValidationError(_l("Choose what to do with customers already here."))

    def validate_list_kind(self, field):
        if field.data not in LIST_KINDS:
            raise ValidationError(_l("Choose where the list comes from."))

    def validate_default_region(self, field):
        if field.data not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(_l("Enter a two-letter country code such as PL, DE or CN."))

    def validate_default_currency(self, field):
        if field.data and currency_code(field.data) != field.data:
            raise ValidationError(_l("Enter a currency code such as PLN, EUR or USD, or nothing."))

    def validate_vendor(self, field):
        if self.list_kind.data == "external" and not field.data:
            raise ValidationError(_l("Name who the list comes from (the seller or partner)."))

    def validate_consent_evidence(self, field):
        if "everyone" in self.chosen_consent().values() and not field.data:
            raise ValidationError(
                _l(
                    "Say how everyone in the file agreed (for example: signed paper forms at the "
                    "2024 fair); it is kept with their consent."
                )
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        chosen = set(self.chosen_mapping().columns.values())
        for field in self.consent_fields():
            source = field.data or ""
            column = source.removeprefix("column:")
            if source in CONSENT_SOURCES and source != column and column not in chosen:
                field.errors.append(
                    _l(
                        "No column is set to “%(field)s”: choose that field for a column above, "
                        "or another answer here.",
                        field=FIELDS[column],
                    )
                )
                valid = False
        self.mapping_errors = self.chosen_mapping().errors()
        return valid and not self.mapping_errors

    # What the owner chose ----------------------------------------------------------------

    def chosen_mapping(self) -> Mapping:
        columns = {
            header: field.data or "ignore"
            for header, field in zip(self.headers, self.column_fields(), strict=True)
        }
        return Mapping(columns=columns, source=self.source)

    def chosen_consent(self) -> dict[str, str]:
        return {
            str(pid): field.data or ""
            for pid, field in zip(self.purposes, self.consent_fields(), strict=True)
        }

    def chosen_options(self, base: ImportOptions) -> ImportOptions:
        """The options as posted, on top of those the owner cannot change here (timezone)."""
        return replace(
            base,
            encoding=self.encoding.data or "",
            delimiter=self.delimiter.data or "",
            sheet=self.sheet.data or "",
            default_region=self.default_region.data or "",
            day_first=self.day_first.data != "no",
            default_currency=self.default_currency.data or "",
            duplicates=self.duplicates.data,
            consent={pid: source for pid, source in self.chosen_consent().items() if source},
            consent_evidence=self.consent_evidence.data or "",
            list_kind=self.list_kind.data,
            vendor=self.vendor.data or "" if self.list_kind.data == "external" else "",
            default_language=self.default_language.data,
        )


def reading_choices(detected: dict, sheets: list[str]) -> dict[str, list[SelectChoice]]:
    """Choices of the reading options; "" is what was detected from the file."""
    encoding = detected.get("encoding") or ""
    delimiter = detected.get("delimiter") or ""
    shown = DELIMITERS.get(delimiter, delimiter)
    return {
        "encoding": [SelectChoice("", _l("As detected: %(encoding)s", encoding=encoding))]
        + _choices(ENCODINGS),
        "delimiter": [SelectChoice("", _l("As detected: %(delimiter)s", delimiter=shown))]
        + _choices(DELIMITERS),
        "sheet": [SelectChoice("", _l("The first sheet"))] + [SelectChoice(s, s) for s in sheets],
    }


def initial_data(headers: list[str], mapping: Mapping, options: ImportOptions, purposes) -> dict:
    """The form's values for a mapping and options (a form shown before it is posted)."""
    data = {
        "headings": headings_key(headers),
        "encoding": options.encoding,
        "delimiter": options.delimiter,
        "sheet": options.sheet,
        "default_region": options.default_region,
        "day_first": "yes" if options.day_first else "no",
        "default_currency": options.default_currency,
        "duplicates": options.duplicates,
        "consent_evidence": options.consent_evidence,
        "list_kind": options.list_kind,
        "vendor": options.vendor,
        "default_language": options.default_language,
    }
    for index, header in enumerate(headers):
        data[f"column_{index}"] = mapping.field_of(header)
    for pid in purposes:
        data[f"consent_{pid}"] = options.consent.get(str(pid), "")
    return data


def mapping_form(
    headers: list[str],
    purposes: dict[int, str],
    *,
    source: str,
    detected: dict,
    sheets: list[str],
    data: dict | None = None,
) -> MappingForm:
    """The mapping form for these headings and consent purposes (posted, or filled from
    `data` when `data` is given)."""

    class Form(MappingForm):
        pass

    field_choices = _choices(FIELDS)
    for index, header in enumerate(headers):
        setattr(Form, f"column_{index}", ListField(header, choices=field_choices))
    for pid, title in purposes.items():
        setattr(Form, f"consent_{pid}", ListField(title, choices=_choices(CONSENT_SOURCES)))
    Form.headers, Form.purposes = headers, purposes
    form = Form(formdata=None, data=data) if data is not None else Form()
    form.source = source
    form.mapping_errors = []
    for name, choices in reading_choices(detected, sheets).items():
        form[name].choices = choices
    return form
