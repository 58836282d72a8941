"""HTTP load from its own process: ``python -m reliability.hammer PORT CLIENTS SECONDS``.

Each client is a thread with one kept-alive connection that asks, in turn, for the latest
sample, the status, a minute of data, a chart's worth of ten minutes and an hour of
statistics, as fast as the server answers. Prints one JSON line: requests, answers that
were not 200, connection errors and the seconds it ran.
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys
import threading
import time

PATHS = (
    "/api/data/latest",
    "/api/status",
    "/api/data/1m",
    "/api/data/10m?max_points=300",
    "/api/stats/1h",
)


def hammer(port: int, clients: int, seconds: float) -> dict[str, float]:
    """Run the load; what it achieved."""
    ok = [0] * clients
    bad = [0] * clients
    errors = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in itertools.cycle(PATHS[index % len(PATHS) :] + PATHS[: index % len(PATHS)]):
            if time.monotonic() >= stop_at:
                break
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                continue
            if response.status == 200:
                ok[index] += 1
            else:
                bad[index] += 1
        conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    return {
        "requests": sum(ok) + sum(bad),
        "not_200": sum(bad),
        "errors": sum(errors),
        "seconds": round(time.monotonic() - start, 3),
    }


def main(argv: list[str]) -> int:
    port, clients, seconds = int(argv[0]), int(argv[1]), float(argv[2])
    print(json.dumps(hammer(port, clients, seconds)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
