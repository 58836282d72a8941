"""One HTTP request on a raw socket, its answer read while the body is still being sent.

A server that refuses a large body answers before reading it and may close the connection;
a client that sends the whole body first then only sees a broken pipe. This one reads the
answer in parallel, so the status the server gave is what the scenario judges.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping

import httpx2 as httpx


def send_raw(
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | Iterator[bytes],
) -> httpx.Response:
    """Send the request (an iterator body goes chunked) and return the server's answer."""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    pieces: Iterable[bytes]
    if isinstance(body, bytes):
        chunked, pieces = False, [body]
        head.append(f"Content-Length: {len(body)}")
    else:
        chunked, pieces = True, body
        head.append("Transfer-Encoding: chunked")
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)

    def send() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            for piece in pieces:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                break
            received += data
            if _complete(received):
                break
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        sender.join(10)
    answer_head, _, answer_body = received.partition(b"\r\n\r\n")
    lines = answer_head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        raise httpx.RemoteProtocolError(f"no HTTP answer: {received[:100]!r}")
    fields = [line.partition(":") for line in lines[1:]]
    return httpx.Response(
        int(lines[0].split()[1]),
        headers=[(name.strip(), value.strip()) for name, _, value in fields],
        content=answer_body,
    )


def _complete(received: bytes) -> bool:
    """True once a whole answer with a Content-Length is in ``received``."""
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False
