"""The profile's consent form: a grant or withdrawal, the wording read out, channel, evidence."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length

from .. import consent
from ..form_fields import no_control_characters, record_id
from .profile_forms import _strip, choices

# Labels of the stored channel codes (those staff choose, and the one written by a link).
CHANNELS = {
    "paper_form": _l("Paper form in store"),
    "verbal": _l("Said aloud (verbal)"),
    "web_form": _l("Web form"),
    "self_service": _l("Self-service"),
    "import": _l("Import"),
    "unsubscribe_link": _l("Unsubscribe link"),
}
STATES = {
    "granted": _l("Given"),
    "withdrawn": _l("Withdrawn"),
    "never_asked": _l("Never asked"),
}
DECISIONS = {"granted": _l("Gave consent"), "withdrawn": _l("Withdrew consent")}


def _known_choice(message):
    """A select or radio whose value must be one of its choices, with our own message."""

    def check(form, field):
        if field.data not in {str(choice.value) for choice in field.choices}:
            raise ValidationError(message)

    return check


class ConsentForm(FlaskForm):
    purpose = SelectField(
        _l("Purpose"),
        choices=[],
        validate_choice=False,
        validators=[_known_choice(_l("Choose one of the purposes listed."))],
    )
    decision = RadioField(
        _l("The customer"),
        choices=choices(DECISIONS),
        validate_choice=False,
        validators=[
            InputRequired(_l("Choose whether the customer gave or withdrew consent.")),
            _known_choice(_l("Choose whether the customer gave or withdrew consent.")),
        ],
    )
    wording_version = SelectField(
        _l("Wording shown to the customer"),
        choices=[],
        validate_choice=False,
        validators=[_known_choice(_l("Choose a version of this purpose's wording."))],
    )
    channel = SelectField(
        _l("How it reached us"),
        choices=[SelectChoice(code, CHANNELS[code]) for code in consent.STAFF_CHANNELS],
        default="paper_form",
        validate_choice=False,
        validators=[_known_choice(_l("Choose one of the ways listed."))],
    )
    evidence = StringField(
        _l("Evidence (optional)"),
        filters=[_strip],
        validators=[
            no_control_characters,
            Length(
                max=consent.EVIDENCE_MAX_LENGTH,
                message=_l("Keep the evidence to %(max)d characters or fewer."),
            ),
        ],
    )

    # The purpose whose versions the form offered, to notice when the purpose was changed.
    versions_for = HiddenField()

    def __init__(self, *args, titles: dict[int, str], versions: dict[int, list[int]], **kwargs):
        # Prefixed names and ids: the profile holds several forms.
        super().__init__(*args, prefix="consent", **kwargs)
        # Defaults only for a form that starts empty; a posted form missing a field is refused.
        self._blank = kwargs.get("formdata", True) is None or not self.is_submitted()
        self.purpose.choices = [SelectChoice(str(pid), title) for pid, title in titles.items()]
        if self._blank and self.purpose.data is None and titles:
            self.purpose.data = str(next(iter(titles)))
        self._versions = versions
        self._shown_for = self.versions_for.data
        self.versions_for.data = self.purpose.data
        self._fit_versions()

    def _fit_versions(self) -> None:
        """Offer the chosen purpose's versions, the current one first and chosen by default."""
        known = self._versions.get(self.purpose_id, [])
        self.wording_version.choices = [
            SelectChoice(
                str(v),
                _l("Version %(number)d (current)", number=v)
                if i == 0
                else _l("Version %(number)d", number=v),
            )
            for i, v in enumerate(known)
        ]
        if known and self._blank and self.wording_version.data is None:
            self.wording_version.data = str(known[0])

    def show_current_wording(self) -> None:
        """Show the chosen version's text; after a change of purpose, that purpose's current one."""
        known = self._versions.get(self.purpose_id, [])
        changed_purpose = self._shown_for != self.purpose.data
        if changed_purpose or self.wording_version.data not in {str(v) for v in known}:
            self.wording_version.data = str(known[0]) if known else None
        self.wording_version.errors = []

    @property
    def purpose_id(self) -> int | None:
        return record_id(self.purpose.data)

    @property
    def version(self) -> int | None:
        return record_id(self.wording_version.data)  # versions count from 1 like ids

    @property
    def granted(self) -> bool:
        return self.decision.data == "granted"
