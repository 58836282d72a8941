"""One plug of the emulator: a pseudo-terminal, the stable link to it, and its teardown.

Each plug is one generation of the virtual cable. Closing it removes the link and closes
the pty, so a client's reads and writes fail as they do when a real meter is unplugged.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

#: How often a write blocked by a full pty re-checks its deadline.
POLL_S = 0.05
#: A reply still unwritten after this long (nobody reads the pty) is dropped.
WRITE_STALL_S = 2.0


def point_link(link: Path, target: str) -> None:
    """Make ``link`` a symlink to ``target`` atomically (never a moment without a link)."""
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a symlink: refusing to replace it")
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.tmp")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


class Plug:
    """One pseudo-terminal generation: its fds, its link and the thread serving it.

    The emulator keeps its own slave fd open so the master never reads EIO while no client
    has the port open.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        # Writing to the wake pipe ends the serving thread's select at once on close().
        self._wake_r, self._wake_w = os.pipe()
        try:
            self.master, self.slave = os.openpty()
        except OSError:
            os.close(self._wake_r)
            os.close(self._wake_w)
            raise
        try:
            tty.setraw(self.slave)  # no echo, no CR/LF translation: a binary link
            os.set_blocking(self.master, False)
            self.pts_path = os.ttyname(self.slave)
            point_link(link, self.pts_path)
        except BaseException:
            self._close_fds()
            raise
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()

    def start(self, serve: Callable[[Plug], None]) -> None:
        """Run ``serve(self)`` in this plug's own daemon thread."""
        self.thread = threading.Thread(
            target=serve, args=(self,), name=f"tc66c-emulator {self.pts_path}", daemon=True
        )
        self.thread.start()

    @property
    def closed(self) -> bool:
        """True once the pty is gone (unplugged or stopped)."""
        return self._closed

    def close(self) -> None:
        """Stop the thread, close the fds and remove the link if it is still ours; idempotent."""
        with self._lock:
            if self._closed:
                return  # the fd numbers may belong to someone else by now
            self.stopping.set()
            os.write(self._wake_w, b"x")
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Link first: a client that sees its I/O fail must also find the link gone.
            with contextlib.suppress(OSError):
                if os.readlink(self.link) == self.pts_path:
                    self.link.unlink()
            self._close_fds()

    def _close_fds(self) -> None:
        for fd in (self.master, self.slave, self._wake_r, self._wake_w):
            os.close(fd)

    def wait_readable(self) -> bool:
        """Block until the client sent something (True) or the plug is closing (False)."""
        ready, _, _ = select.select([self.master, self._wake_r], [], [])
        return self._wake_r not in ready and not self.stopping.is_set()

    def write(self, data: bytes) -> int:
        """Write ``data`` to the client; returns how many bytes went out (all unless stalled)."""
        deadline = time.monotonic() + WRITE_STALL_S
        sent = 0
        while sent < len(data) and not self.stopping.is_set():
            if time.monotonic() > deadline:
                break
            readable, writable, _ = select.select([self._wake_r], [self.master], [], POLL_S)
            if readable:
                break  # closing
            if not writable:
                continue
            try:
                sent += os.write(self.master, data[sent:])
            except BlockingIOError:
                continue
        return sent
