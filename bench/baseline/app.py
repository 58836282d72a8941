"""TC66C API server, straight from the seed README (the naive baseline of the benchmarks).

Written the way the seed's author would likely write it, on purpose: do not optimise it.
Like the seed it has no ``max_points``: a client that wants a day gets every point of it.
"""

from __future__ import annotations

import csv
import re
import struct
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import serial
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

CONFIG: dict[str, Any] = {
    "port": "/dev/ttyACM0",  # Port du TC66C
    "polling_interval": 1.0,  # Intervalle de lecture en secondes
    "data_retention_minutes": 10,  # Durée de rétention des données
}

# AES key of the TC66C (from the sigrok wiki)
KEY = bytes.fromhex("5821fa5601b2f02687ff1204622a4fb086f40260816f9a0ba7f106619ab87288")

app = Flask(__name__)
data: list[dict[str, Any]] = []
data_lock = threading.Lock()
running = True


def decode_packet(packet: bytes) -> dict[str, Any]:
    """Decrypt the 192 bytes and pick voltage, current and power out of pac1."""
    decryptor = Cipher(algorithms.AES(KEY), modes.ECB()).decryptor()
    plain = decryptor.update(packet) + decryptor.finalize()
    voltage, current, power = struct.unpack("<III", plain[48:60])
    return {"voltage": voltage / 10000, "current": current / 100000, "power": power / 10000}


def polling_thread() -> None:
    ser = None
    while running:
        try:
            if ser is None:
                ser = serial.Serial(CONFIG["port"], 115200, timeout=1)
            ser.write(b"getva")
            packet = ser.read(192)
            if len(packet) == 192:
                point = decode_packet(packet)
                point["timestamp"] = datetime.now()
                with data_lock:
                    data.append(point)
                    # remove old data
                    limit = datetime.now() - timedelta(minutes=CONFIG["data_retention_minutes"])
                    data[:] = [d for d in data if d["timestamp"] > limit]
        except Exception as e:
            print(f"Erreur: {e}")
            ser = None
            time.sleep(1)
        time.sleep(CONFIG["polling_interval"])


def parse_period(period: str) -> timedelta | None:
    m = re.match(r"^(\d+)([smhd])$", period)
    if not m:
        return None
    value = int(m.group(1))
    unit = m.group(2)
    if unit == "s":
        return timedelta(seconds=value)
    if unit == "m":
        return timedelta(minutes=value)
    if unit == "h":
        return timedelta(hours=value)
    return timedelta(days=value)


def get_data_since(delta: timedelta) -> list[dict[str, Any]]:
    start = datetime.now() - delta
    with data_lock:
        return [d for d in data if d["timestamp"] >= start]


def to_json(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "timestamp": d["timestamp"].isoformat(),
        "voltage": d["voltage"],
        "current": d["current"],
        "power": d["power"],
    }


@app.route("/")
def index() -> str:
    return "<html><body><h1>TC66C Dashboard</h1><div id='chart'></div></body></html>"


@app.route("/api/data/latest")
def api_latest() -> ResponseReturnValue:
    with data_lock:
        if not data:
            return jsonify({"error": "No data available"}), 404
        last = data[-1]
    return jsonify(to_json(last))


@app.route("/api/data/<period>")
def api_data(period: str) -> ResponseReturnValue:
    delta = parse_period(period)
    if delta is None:
        return jsonify({"error": "Invalid period format"}), 400
    points = get_data_since(delta)
    now = datetime.now()
    return jsonify(
        {
            "period": period,
            "count": len(points),
            "start_time": (now - delta).isoformat(),
            "end_time": now.isoformat(),
            "data": [to_json(d) for d in points],
        }
    )


@app.route("/api/stats/<period>")
def api_stats(period: str) -> ResponseReturnValue:
    delta = parse_period(period)
    if delta is None:
        return jsonify({"error": "Invalid period format"}), 400
    points = get_data_since(delta)
    if not points:
        return jsonify({"error": "No data available"}), 404
    result: dict[str, Any] = {"period": period, "sample_count": len(points)}
    for key in ("voltage", "current", "power"):
        values = [d[key] for d in points]
        result[key] = {
            "min": min(values),
            "max": max(values),
            "avg": sum(values) / len(values),
        }
    return jsonify(result)


@app.route("/api/status")
def api_status() -> ResponseReturnValue:
    with data_lock:
        count = len(data)
        oldest = data[0]["timestamp"].isoformat() if data else None
        newest = data[-1]["timestamp"].isoformat() if data else None
    return jsonify(
        {
            "running": running,
            "data_count": count,
            "oldest_data": oldest,
            "newest_data": newest,
            "retention_minutes": CONFIG["data_retention_minutes"],
            "polling_interval": CONFIG["polling_interval"],
        }
    )


@app.route("/api/config", methods=["GET", "POST"])
def api_config() -> ResponseReturnValue:
    if request.method == "POST":
        new_config = request.get_json()
        for key in ("port", "polling_interval", "data_retention_minutes"):
            if key in new_config:
                CONFIG[key] = new_config[key]
    return jsonify(CONFIG)


def load_csv(path: str) -> int:
    """Preload samples from a CSV export (timestamp, voltage, current, power, ...)."""
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ts = datetime.fromisoformat(row["timestamp"])
            if ts.tzinfo is not None:
                ts = ts.astimezone().replace(tzinfo=None)
            data.append(
                {
                    "timestamp": ts,
                    "voltage": float(row["voltage"]),
                    "current": float(row["current"]),
                    "power": float(row["power"]),
                }
            )
    return len(data)


def main(port: int) -> None:
    print(f"Démarrage du serveur API sur le port {port}...")
    print(f"Port TC66C: {CONFIG['port']}")
    print(f"Intervalle de polling: {CONFIG['polling_interval']}s")
    print(f"Rétention des données: {CONFIG['data_retention_minutes']}min")
    threading.Thread(target=polling_thread, daemon=True).start()
    app.run(host="127.0.0.1", port=port, threaded=True)
