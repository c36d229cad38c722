"""The customer list with filters and keyset paging, bulk tagging, and saved segments."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from .. import consent, customer_list, settings
from ..customer_list import Filters
from ..form_fields import record_id
from ..i18n import select_language
from ..models import Tag
from ..web import is_htmx, is_safe_next, record_audit
from . import bp
from .list_forms import BulkTagForm, FilterForm, SegmentForm


def filter_form(args) -> FilterForm:
    form = FilterForm(formdata=args)
    form.consent_purpose.choices = [SelectChoice("", _("Any consent"))] + [
        SelectChoice(str(pid), title)
        for pid, title in consent.purpose_titles(select_language()).items()
    ]
    return form


def filters_of_form(form: FilterForm) -> Filters:
    values = {name: form.data.get(name) for name in Filters.__dataclass_fields__}
    values["consent_purpose"] = (
        int(values["consent_purpose"]) if values["consent_purpose"] else None
    )
    return Filters(**{name: v for name, v in values.items() if v not in (None, "")})


def _render_list(args, bulk_form=None, segment_form=None, status=200):
    form = filter_form(args)
    valid = form.validate()
    filters = filters_of_form(form) if valid else Filters()
    rows, next_cursor = (
        customer_list.page(filters, after=args.get("after")) if valid else ([], None)
    )
    context = {
        "form": form,
        "filters": filters,
        "rows": rows,
        "next_cursor": next_cursor,
        "is_first_page": not args.get("after"),
        "tags": customer_list.tags_of(rows),
        "cities": customer_list.cities_of(rows),
        "currency": settings.get("currency"),
        "bulk_form": bulk_form or BulkTagForm(),
        "segment_form": segment_form or SegmentForm(filters=filters.to_json()),
        "list_url": url_for("staff.customers", **filters.as_query_args()),
    }
    template = "staff/customers/_results.html" if is_htmx() else "staff/customers/index.html"
    return render_template(template, **context), status, {"Vary": "HX-Request"}


@bp.route("/customers")
def customers():
    """Customers and leads, filtered and sorted, a page at a time."""
    return _render_list(request.args)


@bp.route("/customers/bulk-tag", methods=["POST"])
def bulk_tag():
    """Add one tag to the selected customers."""
    form = BulkTagForm()
    ids = [n for n in map(record_id, request.form.getlist("customer_ids")) if n]
    if form.validate_on_submit() and not ids:
        form.tag.errors.append(_("Select at least one customer in the list first."))
    if not form.errors and form.tag.data and ids:
        added = customer_list.bulk_tag(ids, form.tag.data)
        record_audit(
            "customers_tagged",
            target_type="customer",
            customer_ids=ids,
            # The tag by id: its name is free text staff typed about these people.
            tag_id=Tag.get(Tag.name == form.tag.data.strip().lower()).id,
        )
        flash(
            ngettext(
                "Tag “%(tag)s” added to %(num)s customer.",
                "Tag “%(tag)s” added to %(num)s customers.",
                added,
                tag=form.tag.data.strip().lower(),
            ),
            "success",
        )
        back = request.form.get("return_to")
        return redirect(back if is_safe_next(back) else url_for("staff.customers"), code=303)
    return _render_list(request.args, bulk_form=form, status=422)


@bp.route("/segments", methods=["GET", "POST"])
def segments():
    """Saved filters with how many customers each holds now; POST saves the current filters."""
    form = SegmentForm()
    if form.validate_on_submit():
        try:
            filters = Filters.from_json(form.filters.data)
        except (ValueError, TypeError):
            form.name.errors.append(
                _("These filters could not be saved. Set them again on the list.")
            )
        else:
            segment = customer_list.save_segment(form.name.data, filters, staff_id=current_user.id)
            record_audit("segment_saved", target_type="segment", target_id=segment.id)
            flash(_("Segment “%(name)s” saved.", name=segment.name), "success")
            return redirect(url_for("staff.segments"), code=303)
    return _render_segments(form), 422 if form.errors else 200


def _render_segments(form: SegmentForm) -> str:
    return render_template(
        "staff/segments.html",
        segments=customer_list.segments_with_counts(),
        segment_count_cap=customer_list.SEGMENT_COUNT_CAP,
        form=form,
    )
