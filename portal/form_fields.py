"""Form fields shared by the staff, owner and customer forms."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import ValidationError


class ListField(SelectField):
    """A select whose unknown values (an edited address) get a plain message."""

    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(_l("Choose one from the list."))
