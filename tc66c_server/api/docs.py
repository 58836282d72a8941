"""``/docs``: Swagger UI from the vendored files under ``static/vendor/swagger-ui``.

Nothing comes from a CDN. The page FastAPI generates starts Swagger UI with one inline
script; its SHA-256 goes into this page's ``Content-Security-Policy`` so that exact script,
and no other inline code, may run.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

from .headers import content_security_policy

VENDOR = "static/vendor/swagger-ui"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _script_hashes(html: str) -> list[str]:
    """CSP source expressions for each inline ``<script>`` of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def docs_policy(html: str) -> str:
    """The docs page's policy: the dashboard's, plus its own inline start-up script."""
    return content_security_policy(*_script_hashes(html))


def install(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` (URLs relative, so it works behind a path prefix)."""
    page = get_swagger_ui_html(
        openapi_url="openapi.json",
        title=f"{app.title} - API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url="static/favicon.svg",
        # No online validator badge: it would fetch from the validator's own site.
        swagger_ui_parameters={"validatorUrl": None},
    )
    html = bytes(page.body).decode()
    headers = {"Content-Security-Policy": docs_policy(html), "Cache-Control": "no-cache"}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)
