"""Many ``/api/stream`` clients at little cost: raw sockets, one selector, one thread.

A browser's EventSource is one HTTP/1.1 GET whose answer never ends; this speaks exactly
that (chunked transfer decoding included) so hundreds of clients fit in one test process.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Iterable

import orjson

from .api import timestamp

HEAD_TIMEOUT_S = 5.0


class RawStream:
    """One ``GET /api/stream`` on its own socket."""

    def __init__(self, port: int, *, host: str | None = None) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=HEAD_TIMEOUT_S)
        request = (
            f"GET /api/stream HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n"
            "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunked = False
        self._raw = b""  # received, not yet de-chunked
        self._text = b""  # de-chunked, not yet split into events
        #: The timestamp of every ``sample`` event, in arrival order.
        self.samples: list[float] = []
        self.events = 0
        self.closed_by_server = False

    def read_head(self) -> int:
        """Block (bounded) until the status line and headers arrived; the status (0: none)."""
        deadline = time.monotonic() + HEAD_TIMEOUT_S
        while b"\r\n\r\n" not in self._raw and time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return 0
            if not data:
                break
            self._raw += data
        head, sep, rest = self._raw.partition(b"\r\n\r\n")
        if not sep:
            return 0
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self._raw = rest
        return self.status

    def read_body(self) -> bytes:
        """The whole body of a finite (error) answer, by its Content-Length."""
        size = int(self.headers.get("content-length", "0"))
        deadline = time.monotonic() + HEAD_TIMEOUT_S
        while len(self._raw) < size and time.monotonic() < deadline:
            data = self.sock.recv(65536)
            if not data:
                break
            self._raw += data
        return self._raw[:size]

    def fileno(self) -> int:
        return self.sock.fileno()

    def pump(self) -> None:
        """Read what is there (the socket is readable) and parse complete events."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.closed_by_server = True
            return
        self._raw += data
        self.consume()

    def consume(self) -> None:
        """Parse the complete events received so far (also those that came with the head)."""
        self._dechunk()
        while b"\n\n" in self._text:
            frame, _, self._text = self._text.partition(b"\n\n")
            self._event(frame)

    def _dechunk(self) -> None:
        if not self.chunked:
            self._text += self._raw
            self._raw = b""
            return
        while True:
            line_end = self._raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self._raw[:line_end].split(b";")[0], 16)
            end = line_end + 2 + size
            if len(self._raw) < end + 2:
                return
            self._text += self._raw[line_end + 2 : end]
            self._raw = self._raw[end + 2 :]

    def _event(self, frame: bytes) -> None:
        name, data = "message", b""
        for line in frame.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data = line[5:].strip()
        if not data:
            return  # retry hints and heartbeats
        self.events += 1
        if name == "sample":
            self.samples.append(timestamp(orjson.loads(data)["timestamp"]))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Listener:
    """Pumps every stream from one thread until stopped."""

    def __init__(self, streams: Iterable[RawStream]) -> None:
        self.streams = list(streams)
        self._selector = selectors.DefaultSelector()
        for stream in self.streams:
            stream.sock.setblocking(False)
            stream.consume()
            self._selector.register(stream.sock, selectors.EVENT_READ, stream)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sse-listener", daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._selector.close()
        for stream in self.streams:
            stream.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.1):
                stream: RawStream = key.data
                stream.pump()
                if stream.closed_by_server:
                    self._selector.unregister(key.fileobj)
