"""Security headers on every response: no sniffing, no framing, a strict content policy.

The dashboard loads only its own scripts, styles and images, talks only to its own API and
may not be framed (so its settings form cannot be clickjacked). A route that needs another
policy (the API docs page and its inline start-up script) sets ``Content-Security-Policy``
itself; the defaults here never overwrite a header a route has set.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(*scripts: str) -> str:
    """The dashboard's policy; ``scripts`` adds sources for scripts (hashes of inline ones)."""
    return "; ".join(
        (
            "default-src 'self'",
            " ".join(("script-src 'self'", *scripts)),
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


#: The dashboard's policy, also sent with every API answer.
CONTENT_SECURITY_POLICY = content_security_policy()

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


def add_security_headers(headers: MutableHeaders) -> None:
    """Add each security header the response does not already have."""
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)
