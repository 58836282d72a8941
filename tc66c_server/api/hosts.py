"""Which ``Host`` names the server answers to, and whether an address is loopback.

Pure functions over strings: no I/O, no web framework. A browser always sends the name it
used in ``Host`` (and in ``Origin``); refusing names the server was not told about defeats
DNS rebinding, where a hostile site's name is pointed at 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

#: Loopback names a local browser may use, always accepted with the server's port.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
#: ``--host`` values meaning "every interface".
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::", "[::]")
ANY_HOST = "*"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


class HostError(ValueError):
    """An ``--allowed-host`` entry that is not ``name``, ``name:port`` or ``*``."""


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); names never guess."""
    text = host.strip().lower()
    ip = _ip(text)
    return text == "localhost" or (ip is not None and ip.is_loopback)


def split_host(value: str) -> tuple[str, int | None] | None:
    """``(name, port)`` from a ``Host`` value such as ``localhost:5000`` or ``[::1]:5000``.

    Names are lowercased; IPv6 addresses keep their brackets. None when malformed.
    """
    text = value.strip().lower()
    if text.startswith("["):
        name, bracket, rest = text.partition("]")
        ip = _ip(name + bracket)
        if not bracket or not isinstance(ip, ipaddress.IPv6Address):
            return None
        name = f"[{ip.compressed}]"
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, colon, port_text_or_empty = text.partition(":")
        if not name or not set(name) <= _NAME_CHARS:
            return None
        port_text = port_text_or_empty if colon else None
    if port_text is None:
        return name, None
    if not (port_text.isascii() and port_text.isdigit() and len(port_text) <= 5):
        return None
    port = int(port_text)
    return (name, port) if 0 < port < 65536 else None


def host_name(address: str) -> str:
    """``address`` as it appears in a ``Host`` header (IPv6 in brackets)."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return f"[{ip.compressed}]"
    return address.strip().lower()


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The ``Host`` values the server answers to.

    ``exact``: ``(name, port)`` pairs (the loopback names and ``--host`` with the server's
    port, ``--allowed-host name:port``); ``names``: ``--allowed-host`` names accepted on any
    port; ``any_ip``: any IP address with the server's port (listening on every interface);
    ``any_host``: ``--allowed-host '*'``, no check at all.
    """

    port: int
    exact: frozenset[tuple[str, int]]
    names: frozenset[str]
    any_ip: bool = False
    any_host: bool = False

    @classmethod
    def build(cls, bind_host: str, port: int, allowed: Iterable[str] = ()) -> HostPolicy:
        """The policy of a server bound to ``bind_host:port`` with ``--allowed-host`` entries."""
        exact = {(name, port) for name in LOOPBACK_NAMES}
        any_ip = bind_host.strip() in WILDCARD_ADDRESSES
        if not any_ip:
            exact.add((host_name(bind_host), port))
        names: set[str] = set()
        any_host = False
        for entry in allowed:
            parsed = parse_allowed_host(entry)
            if parsed is None:
                any_host = True
            elif parsed[1] is None:
                names.add(parsed[0])
            else:
                exact.add((parsed[0], parsed[1]))
        return cls(port, frozenset(exact), frozenset(names), any_ip, any_host)

    def named(self, host: tuple[str, int | None]) -> bool:
        """True when ``host`` is named by the loopback names, ``--host`` or ``--allowed-host``.

        A missing port means the scheme's default, 80 (a reverse proxy on 443 is named by an
        ``--allowed-host`` entry without a port).
        """
        name, port = host
        return name in self.names or (name, port or 80) in self.exact

    def answers(self, value: str | None) -> bool:
        """True when the server answers to this ``Host`` header (None: no header, HTTP/1.0)."""
        if self.any_host or value is None:
            return True
        host = split_host(value)
        if host is None:
            return False
        if self.named(host):
            return True
        return self.any_ip and _ip(host[0]) is not None and (host[1] or 80) == self.port


def parse_allowed_host(entry: str) -> tuple[str, int | None] | None:
    """An ``--allowed-host`` entry as ``(name, port or None)``; None for ``*``.

    Raises :class:`HostError` for anything else (a URL, a path, spaces, a bad port).
    """
    text = entry.strip()
    if text == ANY_HOST:
        return None
    host = split_host(text) if text else None
    if host is None:
        raise HostError(
            f"{entry[:64]!r} is not a host name: use name, name:port, an IP address or '*'"
        )
    return host
