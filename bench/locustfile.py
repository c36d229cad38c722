"""Simulated staff for bench/load_bench.py: sign in, search, open profiles, record purchases.

Run by bench/load_bench.py, which builds the database and writes the facts this file needs
(accounts, search fragments, customer ids, think time, task weights) to the JSON file named by
LOAD_BENCH_DATA. Each simulated staff member signs in once through the real /sign-in form
(its CSRF token read from the page), then repeats a weighted mix of what a shop assistant does
at the counter, pausing between actions:

- quick search: types a name, phone or e-mail fragment into the search box, which HTMX sends
  after a short pause in typing (first the first 3 characters, then the whole fragment);
- open a profile: one of the customers the last search found (else any customer);
- record a purchase: fills the purchase form of the open profile (its CSRF token and fields
  as the page rendered them) and submits it as HTMX does.

Every request is also written to LOAD_BENCH_REQUESTS (one JSON line each, with the moment it
ended), and so is the moment the last user started, so the load script computes exact
percentiles per request type over the window when all users are on.
"""

import itertools
import json
import os
import random
import re
import time
from html.parser import HTMLParser

import gevent
from locust import HttpUser, between, events, task

with open(os.environ["LOAD_BENCH_DATA"], encoding="utf-8") as _file:
    DATA = json.load(_file)

THINK_SECONDS = DATA["think_seconds"]
WEIGHTS = DATA["weights"]
HTMX = {"HX-Request": "true"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RESULT_ID = re.compile(r'id="search-result-(\d+)"')
_accounts = itertools.count()
_receipts = itertools.count(1)
_log = open(os.environ["LOAD_BENCH_REQUESTS"], "a", encoding="utf-8")  # noqa: SIM115


@events.request.add_listener
def _write_request(request_type, name, response_time, response, exception, **_kwargs):
    status = getattr(response, "status_code", 0) or 0
    record = {
        "name": name,
        "ms": response_time,
        "ok": exception is None,
        "status": status,
        "ended": time.time(),
    }
    if exception is not None:
        record["error"] = str(exception)[:300]
    _log.write(json.dumps(record) + "\n")


@events.user_error.add_listener
def _write_user_error(user_instance, exception, tb, **_kwargs):
    # A task that broke (not a request that failed): counted as an error all the same.
    _log.write(json.dumps({"user_error": repr(exception)[:300]}) + "\n")


@events.spawning_complete.add_listener
def _mark_all_started(user_count, **_kwargs):
    # Actions after this moment are the measured window: every user is on and signed in (or
    # signing in: the last one started just now).
    _log.write(json.dumps({"spawned": user_count, "at": time.time()}) + "\n")


@events.quitting.add_listener
def _close_log(**_kwargs):
    _log.close()


class FormFields(HTMLParser):
    """The fields a browser would submit from the form with the given id: each input's value
    and each select's selected (else first) option."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._select_chosen = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag in {"input", "textarea"} and attrs.get("name"):
            if attrs.get("type") not in {"submit", "button", "checkbox", "radio"}:
                self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select, self._select_chosen = attrs.get("name"), False
        elif tag == "option" and self._select and not self._select_chosen:
            selected = "selected" in attrs
            if selected or self._select not in self.fields:
                self.fields[self._select] = attrs.get("value", "")
            self._select_chosen = selected

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None


def form_fields(html: str, form_id: str) -> dict[str, str]:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


class StaffUser(HttpUser):
    wait_time = between(*THINK_SECONDS)

    def on_start(self):
        account = DATA["accounts"][next(_accounts) % len(DATA["accounts"])]
        self.found: list[int] = []
        self.profile: tuple[int, dict[str, str]] | None = None  # (customer id, purchase form)
        page = self.client.get("/sign-in", name="sign-in form")
        token = CSRF.search(page.text)
        with self.client.post(
            "/sign-in",
            data={
                "email": account,
                "password": DATA["password"],
                "csrf_token": token.group(1) if token else "",
            },
            name="sign-in (Argon2 verify)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 303:
                response.failure(f"sign-in answered {response.status_code}, not 303")
                return
        self.client.get(response.headers["Location"], name="dashboard (after sign-in)")

    @task(WEIGHTS["quick search"])
    def quick_search(self):
        kind, fragment = random.choice(DATA["fragments"])
        typed = [fragment[:3], fragment] if len(fragment) > 4 else [fragment]
        for i, text in enumerate(typed):
            if i:
                self._pause(0.3, 0.8)  # still typing: the box fires again after 120 ms idle
            response = self.client.get(
                "/search", params={"q": text}, headers=HTMX, name=f"search ({kind})"
            )
        self.found = [int(found) for found in RESULT_ID.findall(response.text)]

    @task(WEIGHTS["open a profile"])
    def open_profile(self):
        self._open(random.choice(self.found) if self.found else random.choice(DATA["customers"]))

    @task(WEIGHTS["record a purchase"])
    def record_purchase(self):
        if self.profile is None:
            self._open(random.choice(DATA["customers"]))
            if self.profile is None:
                return  # the failed profile request is counted already
            self._pause(*THINK_SECONDS)  # reads the profile before recording
        customer_id, fields = self.profile
        receipt = f"LB-{os.getpid()}-{next(_receipts)}"
        price = f"{random.randrange(100, 50_000) / 100:.2f}"
        fields = {
            **fields,
            "purchase-receipt_number": receipt,
            "purchase-lines-0-product": random.choice(DATA["products"]),
            "purchase-lines-0-quantity": str(random.randint(1, 3)),
            "purchase-lines-0-unit_price": price,
        }
        with self.client.post(
            f"/customers/{customer_id}/purchases",
            data=fields,
            headers=HTMX,
            name="record purchase",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"purchase answered {response.status_code}")
            elif receipt not in response.text:
                response.failure("the recorded purchase is not in the history sent back")
            else:
                # The fresh form HTMX swaps in is the one the next purchase here is made with.
                self.profile = (customer_id, form_fields(response.text, "purchase-form"))

    def _open(self, customer_id: int) -> None:
        with self.client.get(
            f"/customers/{customer_id}", name="open profile", catch_response=True
        ) as response:
            fields = form_fields(response.text, "purchase-form")
            if response.status_code == 200 and "purchase-csrf_token" not in fields:
                response.failure("the profile has no purchase form with a CSRF token")
            elif response.status_code == 200:
                self.profile = (customer_id, fields)

    def _pause(self, low: float, high: float) -> None:
        gevent.sleep(random.uniform(low, high))
