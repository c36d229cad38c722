"""The framework ceiling for bench/workspace_bench.py: bare Flask returning a static 2 KB fragment."""

from flask import Flask

app = Flask(__name__)
FRAGMENT = (
    "<ul>"
    + "".join(f"<li>Customer {i:04d} · example@example.com</li>" for i in range(45))
    + "</ul>"
)


@app.get("/fragment")
def fragment():
    return FRAGMENT
