"""A real Huey worker (`huey_consumer portal.jobs.huey`) in its own process, sharing the test
app's database, queue file and instance folder, for tests of jobs run outside the web process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal import jobs
from portal.models import ExportJob

CONSUMER = Path(sys.executable).with_name("huey_consumer")


class Worker:
    def __init__(self, app, queue_url: str):
        self.env = {
            **os.environ,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "JOBS_URL": queue_url,
            "KARTOTEKA_INSTANCE_PATH": app.instance_path,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "ENCRYPTION_KEYS": ",".join(app.config["ENCRYPTION_KEYS"]),
        }
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                str(CONSUMER),
                "portal.jobs.huey",
                "--workers",
                "1",
                "--delay",
                "0.1",
                "--max-delay",
                "0.5",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def process_killer(self):
        """A function that SIGKILLs the worker running at the time it is called."""
        return lambda: self.process.kill()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Huey's graceful stop
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def wait_for_job(job_id: int, timeout: float = 60) -> ExportJob:
    """Poll the job's row until it is done or failed (the worker writes it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ExportJob.get_by_id(job_id)
        if job.finished:
            return job
        time.sleep(0.1)
    raise AssertionError(
        f"job {job_id} still {ExportJob.get_by_id(job_id).status} after {timeout} s"
    )


@pytest.fixture
def job_worker(app, tmp_path):
    """Queue jobs in a file instead of running them inline, and run a worker over it.

    The worker is started by the test (`job_worker.start()`), so a test can queue first and
    start the worker later, as after a restart.
    """
    queue_url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL=queue_url)
    jobs.configure(app)
    worker = Worker(app, queue_url)
    yield worker
    worker.stop()
    jobs.huey.immediate = True
