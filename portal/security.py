"""Security headers on every response (SPEC 7: strict security headers).

The Content-Security-Policy allows scripts and styles from this site only: no inline script,
no eval (htmx is configured for that in templates/_htmx_head.html) and no inline styles.
"""

from flask import Flask, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    # Customer ids in our paths stay on this site.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def install(app: Flask) -> None:
    @app.after_request
    def _secure_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        # Only over HTTPS: a browser ignores it on plain HTTP, and it must not pin a local
        # development server to HTTPS. Behind a proxy, PROXY_FIX_HOPS makes is_secure true.
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages show customers' personal data: no browser or shared cache keeps them.
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
