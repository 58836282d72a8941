"""Meter-link figures: decode throughput and the bare poll-loop rate against the emulator.

Baselines in the same run: for decoding, AES decryption alone (the floor any decoder pays);
for polling, bare pyserial (write ``getva``, read 192 bytes, no checks, no decode).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import serial

from tc66c_server import protocol
from tc66c_server.emulator import EmulatorHost
from tc66c_server.transport import SerialMeter

from .common import Figure, per_call_s

CAPTURE_A = bytes.fromhex(
    "006630928cdbb01e307647693bac80b012a60ec3c8645b9af0ead3c57ae5a062"
    "8f330593ff8f836a2a36d60f8709fc4fc5ec277ef1b0dbb4815a9497d8646eb2"
    "06f404f8061c1177e994f37dfc6f4dab07385ea4d05c1e32616e88527b57d310"
    "6babf8c170d31db582db234384fa559313e92b412f6af4e16e09168c608fba0a"
    "4231f411e56f5c203c590b4a68fd5b092aca6ec4a4554d5542e8674b097e259c"
    "2aca6ec4a4554d5542e8674b097e259ce09c4004c92da948c3165eebdb8b9ec2"
)
SECTION = "Meter link (issue: protocol, transport, emulator)"
METHODS = {
    SECTION: (
        "Decoding: best of 5 timed loops of `protocol.decode_packet` on a captured reply, "
        "against AES-256-ECB decryption alone. Polling: `SerialMeter.read()` in a loop "
        "against the in-process emulator with no reply delay, against bare pyserial "
        "writing `getva` and reading 192 bytes."
    )
}


def _poll_rate(link: str, count: int) -> tuple[float, float]:
    """Readings per second through SerialMeter, and through bare pyserial."""
    with SerialMeter(link) as meter:
        meter.read()
        start = time.perf_counter()
        for _ in range(count):
            meter.read()
        ours = count / (time.perf_counter() - start)
    with serial.Serial(link, 115200, timeout=1) as port:
        start = time.perf_counter()
        for _ in range(count):
            port.write(b"getva")
            port.read(192)
        bare = count / (time.perf_counter() - start)
    return ours, bare


def run(quick: bool = False) -> list[Figure]:
    """Measure and return the link figures."""
    decode_s = per_call_s(lambda: protocol.decode_packet(CAPTURE_A))
    aes_s = per_call_s(lambda: protocol.decrypt(CAPTURE_A))
    figures = [
        Figure(
            SECTION,
            "decode a 192-byte reply (packets/s)",
            1 / decode_s,
            "packets/s",
            baseline=1 / aes_s,
            baseline_label="AES-256-ECB decrypt alone",
            higher_is_better=True,
            target="well under 1 ms per reading",
            met=decode_s < 0.001,
            note=f"{decode_s * 1e6:.1f} µs per packet",
        )
    ]
    count = 200 if quick else 1000
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / "ttyTC66"
        with EmulatorHost(link, reply_delay_s=0.0, chunked=False):
            ours, bare = _poll_rate(str(link), count)
    figures.append(
        Figure(
            SECTION,
            "poll loop against the emulator, zero delay (readings/s)",
            ours,
            "readings/s",
            baseline=bare,
            baseline_label="bare pyserial write+read, no decode",
            higher_is_better=True,
            target="< 1 ms per reading (meter answers every 80-100 ms)",
            met=ours > 1000,
            note=f"{1000 / ours:.3f} ms per reading, emulator included",
        )
    )
    return figures
