"""Entry point for gunicorn and `flask --app wsgi`."""

from werkzeug.middleware.proxy_fix import ProxyFix

from portal import create_app

app = create_app()

# Behind Caddy or nginx the client's address, scheme and host arrive in X-Forwarded-* headers:
# trust exactly PROXY_FIX_HOPS proxies, so rate limits count clients rather than the proxy,
# and url_for, Secure cookies and HSTS see https. With 0 (no proxy) the headers are ignored,
# since a client could then set them itself.
if hops := app.config["PROXY_FIX_HOPS"]:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
