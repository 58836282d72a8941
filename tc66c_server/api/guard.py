"""One guard in front of every request: who may read, who may write, how much they may send.

ASGI middleware, so every route, present or future, passes it; writes are recognised by
their method, never by a list of paths. In order:

1. ``Host`` must be a name the server answers to (``hosts.HostPolicy``): DNS rebinding.
   Reads are refused with 421, writes with 403.
2. A write's ``Origin`` (or, without one, its ``Referer``) must be the server's own origin:
   cross-site request forgery. Scripts that send neither keep working.
3. Beyond loopback a write needs ``Authorization: Bearer <token>`` (or is refused outright
   when the server has no token).
4. A write with a body must declare ``Content-Type: application/json``; no HTML form and no
   ``fetch`` without a CORS preflight can send that to another origin.
5. A body over ``MAX_BODY_BYTES`` gets 413 before it is read (chunked bodies are counted).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response
from .hosts import HostPolicy, is_loopback, split_host

MAX_BODY_BYTES = 64 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: the status, code and message of the error shape."""

    status: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class GuardRules:
    """What the guard enforces, fixed for the life of the server."""

    hosts: HostPolicy
    token: str | None = None
    #: True when the server listens beyond loopback (writes then need the token).
    exposed: bool = False
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def build(
        cls,
        bind_host: str,
        port: int,
        *,
        allowed_hosts: Iterable[str] = (),
        token: str | None = None,
    ) -> GuardRules:
        """The rules of a server bound to ``bind_host:port``."""
        return cls(
            HostPolicy.build(bind_host, port, allowed_hosts),
            token=token or None,
            exposed=not is_loopback(bind_host),
        )

    def check(self, method: str, headers: Headers) -> Refusal | None:
        """The refusal for a request with these headers, or None (its body is checked later)."""
        write = method in WRITE_METHODS
        host = headers.get("host")
        if not self.hosts.answers(host):
            shown = (host or "")[:80]
            message = (
                f"this server does not answer to the host {shown!r}: open it by the address it "
                "listens on, or start it with --allowed-host NAME"
            )
            return Refusal(403 if write else 421, "host_not_allowed", message)
        if not write:
            return None
        if not self._same_origin(headers, host):
            return Refusal(
                403,
                "cross_origin",
                "writes are only accepted from this server's own pages (Origin/Referer "
                "is another site)",
            )
        if self.token:
            supplied = headers.get("authorization", "")
            expected = f"Bearer {self.token}"
            if not hmac.compare_digest(supplied.encode(), expected.encode()):
                return Refusal(
                    403, "forbidden", "this server needs 'Authorization: Bearer <token>' for writes"
                )
        elif self.exposed:
            return Refusal(
                403,
                "forbidden",
                "writes are refused: the server listens beyond loopback without a token "
                "(restart it with --token or TC66C_TOKEN)",
            )
        if _has_body(headers) or "content-type" in headers:
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media != JSON_TYPE:
                return Refusal(
                    403,
                    "json_required",
                    "writes must send a JSON body (Content-Type: application/json)",
                )
        return None

    def _same_origin(self, headers: Headers, host: str | None) -> bool:
        """True without ``Origin`` and ``Referer``, or when the one sent names this server."""
        source = headers.get("origin")
        if source is None:
            source = headers.get("referer")
            if source is None:
                return True
        try:
            parts = urlsplit(source)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https"):
            return False  # includes "Origin: null" (sandboxed frames, file: pages)
        origin = split_host(parts.netloc)
        if origin is None:
            return False
        return (host is not None and origin == split_host(host)) or self.hosts.named(origin)

    def body_too_large(self, headers: Headers) -> bool:
        """True when the declared ``Content-Length`` is over the limit (or not a number)."""
        declared = headers.get("content-length")
        if declared is None:
            return False
        return (
            not (declared.isascii() and declared.isdigit()) or int(declared) > self.max_body_bytes
        )


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (
        length is not None and length.strip() not in ("", "0")
    )


def _too_large(limit: int) -> Refusal:
    return Refusal(413, "body_too_large", f"request bodies are limited to {limit // 1024} KiB")


class RequestGuard:
    """ASGI middleware applying :class:`GuardRules` to every HTTP request."""

    def __init__(self, app: ASGIApp, rules: GuardRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.rules.check(scope["method"], headers)
        if refusal is None and self.rules.body_too_large(headers):
            refusal = _too_large(self.rules.max_body_bytes)
        if refusal is None and "transfer-encoding" in headers:
            # No length announced: read up to the limit here, then replay it to the app.
            body = await _read_at_most(receive, self.rules.max_body_bytes)
            if body is None:
                refusal = _too_large(self.rules.max_body_bytes)
            else:
                receive = _replay(body, receive)
        if refusal is not None:
            response = error_response(refusal.status, refusal.code, refusal.message)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body if it is at most ``limit`` bytes, else None (the rest is left unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: the app sees an empty body and the disconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving ``body`` in one message, then the client's later messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
