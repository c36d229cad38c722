"""The export form: which customers (a list's filters or a saved segment), which file format,
and optionally the purpose the export is for."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, ValidationError

from .. import consent, customer_list
from ..customer_list import Filters
from ..exports import FORMATS
from ..form_fields import record_id
from ..i18n import select_language
from ..models import Segment

FORMAT_LABELS = {
    "csv": _l("CSV (any spreadsheet or text editor)"),
    "xlsx": _l("Excel workbook (XLSX)"),
}


def filters_from(text: str) -> Filters | None:
    """The list's filters from the form's JSON, or None when they are not ones the list sets."""
    try:
        filters = Filters.from_json(text)
    except (ValueError, TypeError, ArithmeticError, AttributeError):
        return None
    words = (filters.kind, filters.tag, filters.tier, filters.city, filters.consent_state)
    if not all(isinstance(word, str) for word in words):
        return None
    if not isinstance(filters.consent_purpose, int | None) or isinstance(
        filters.consent_purpose, bool
    ):
        return None
    amounts = (filters.min_spend, filters.max_spend)
    if not all(amount is None or isinstance(amount, Decimal) for amount in amounts):
        return None
    known = filters.kind in customer_list.KINDS and filters.sort in customer_list.SORTS
    return filters if known else None


class ExportForm(FlaskForm):
    filters = HiddenField()  # the list's filters as JSON, when not a segment
    segment = HiddenField()  # a saved segment's id
    file_format = SelectField(
        _l("Format"),
        choices=[SelectChoice(code, label) for code, label in FORMAT_LABELS.items()],
        default="csv",
        validate_choice=False,
    )
    purpose = SelectField(_l("For a purpose"), choices=[], default="", validate_choice=False)

    def __init__(self, *args, **kwargs):
        # Prefixed: the list page has other forms, with fields named filters and tag.
        super().__init__(*args, prefix="export", **kwargs)
        self.purpose.choices = [SelectChoice("", _l("No purpose: everyone on the list"))] + [
            SelectChoice(str(pid), title)
            for pid, title in consent.titles(select_language()).items()
        ]
        self.chosen_segment: Segment | None = None
        self.chosen_filters: Filters | None = None

    def validate_file_format(self, field):
        if field.data not in FORMATS:
            raise ValidationError(_l("Choose CSV or XLSX."))

    def validate_purpose(self, field):
        if (field.data or "") not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose one of the purposes listed."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.choose_customers():
            self.form_errors.append(
                _l("These customers could not be found. Open the list or the segment again.")
            )
            return False
        return valid

    def choose_customers(self) -> bool:
        """Read which customers the form means: a saved segment, else the list's filters."""
        if self.segment.data:
            segment_id = record_id(self.segment.data)
            self.chosen_segment = (
                Segment.get_or_none(Segment.id == segment_id) if segment_id else None
            )
            if self.chosen_segment is not None:
                self.chosen_filters = filters_from(self.chosen_segment.filters)
        else:
            self.chosen_filters = filters_from(self.filters.data or "{}")
        return self.chosen_filters is not None

    @property
    def purpose_id(self) -> int | None:
        return int(self.purpose.data) if self.purpose.data else None
