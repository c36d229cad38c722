"""SPEC 6.7 and issue 8: an import killed midway leaves the database as it was.

A real worker process (`huey_consumer`) imports a file; the test waits until the worker is
writing rows into the database, kills it with SIGKILL, and finds every table as before and
the SQLite file consistent (`PRAGMA integrity_check`). A worker started afterwards imports the
file again from the start, and every row arrives exactly once.
"""

import io
import signal
import time

from portal.db import is_postgresql
from portal.extensions import db
from portal.imports import importer
from portal.models import ContactPoint, Customer, ExportJob, ImportJob
from tests.factories import make_customer
from tests.import_files import csv_bytes
from tests.job_worker import wait_for_job
from tests.test_imports import customers_snapshot

ROWS = 40_000
HEADERS = ["First name", "Last name", "E-mail", "Phone", "City", "Tags"]


def big_file() -> bytes:
    return csv_bytes(
        HEADERS,
        [
            {
                "First name": f"Given{n}",
                "Last name": f"Family{n}",
                "E-mail": f"person{n}@example.com",
                "Phone": f"+48 5{n:08d}",
                "City": ("Kraków", "Łódź", "Gdańsk")[n % 3],
                "Tags": "fair, 2026" if n % 2 else "",
            }
            for n in range(ROWS)
        ],
    )


def wait_until_writing(job: ImportJob, timeout: float = 120) -> int:
    """Wait until the worker is inside the import's transaction; the percent it reached."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        percent, _step = importer.progress_of(ImportJob.get_by_id(job.id))
        if 55 <= percent < 95:
            return percent
        time.sleep(0.02)
    raise AssertionError(f"the import never got to writing rows: {importer.progress_of(job)}")


def test_an_import_killed_while_writing_leaves_the_database_as_it_was(app, job_worker):
    with app.test_request_context("/"):
        make_customer("Kept", "Customer", email="kept@example.com", tags=("regular",))
        job = importer.receive(io.BytesIO(big_file()), "fair.csv", None)
        job_worker.start()
        check = importer.start_check(job, "en")
        assert wait_for_job(check.id, timeout=120).status == "done"
        job = ImportJob.get_by_id(job.id)
        assert job.status == "checked" and importer.summary_of(job).create == ROWS
        before = customers_snapshot()

        run = importer.start_import(job, "en")
        reached = wait_until_writing(job)
        job_worker.process.send_signal(signal.SIGKILL)
        job_worker.process.wait(timeout=10)
        job_worker.process = None

        assert customers_snapshot() == before, f"rows written before the kill at {reached} %"
        assert ImportJob.get_by_id(job.id).status == "importing"  # never marked done
        if not is_postgresql(db):
            assert db.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
            # The import drops the search index's insert trigger inside its transaction.
            trigger = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'customer_search_insert'"
            assert db.execute_sql(trigger).fetchone() == (1,)
        assert Customer.select().count() == 1

        # The next worker finds the import cut off and does it again, from the start.
        job_worker.start()
        assert wait_for_job(run.id, timeout=180).status == "done"
        job = ImportJob.get_by_id(job.id)
        assert job.status == "done" and job.created_count == ROWS
        assert Customer.select().count() == ROWS + 1
        emails = ContactPoint.select().where(ContactPoint.kind == "email")
        assert emails.count() == emails.distinct().select(ContactPoint.normalized).count()
        assert job.file_path == "" and ExportJob.get_by_id(run.id).status == "done"
