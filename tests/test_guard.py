"""The request guard: every refused write changes nothing, every foreign Host is refused.

Each attack is the one a web page could make (cross-site request forgery, DNS rebinding) or a
careless script could (huge bodies). A refused write must leave the configuration, its file
and the sample history exactly as they were: the attack payload would prune the history.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tc66c_server.api.app import create_app
from tc66c_server.api.guard import MAX_BODY_BYTES
from tc66c_server.api.headers import SECURITY_HEADERS
from tc66c_server.api.hosts import is_loopback, split_host
from tc66c_server.config import MeterConfig
from tc66c_server.reading import Sample
from tc66c_server.runtime import Runtime, ServerSettings
from tc66c_server.store import SampleStore

from .apihelpers import BASE_URL, assert_error
from .storehelpers import reading

#: What an attacker would send: one minute of retention prunes all the history below.
ATTACK = {"data_retention_minutes": 1, "polling_interval": 60}
ATTACK_JSON = b'{"data_retention_minutes": 1, "polling_interval": 60}'
OWN = "http://127.0.0.1:5000"


def build_runtime(tmp_path: Path, **settings: Any) -> Runtime:
    """A runtime with an hour of history and a saved config; nothing polls (no meter)."""
    saved = tmp_path / "config.json"
    runtime = Runtime(
        ServerSettings(saved_config_path=saved, **settings),
        MeterConfig(str(tmp_path / "absent"), 1.0, 600),
        SampleStore(tmp_path / "samples.sqlite3"),
    )
    now = time.time()
    runtime.store.add_many(Sample(now - 3600 + 10 * k, reading()) for k in range(360))
    saved.write_text('{"data_retention_minutes": 600}\n')
    return runtime


def snapshot(runtime: Runtime) -> tuple[object, ...]:
    """Everything a write could change: live config, poller, retention, file, history."""
    path = runtime.settings.saved_config_path
    assert path is not None
    return (
        runtime.config,
        runtime.poller.interval_s,
        runtime.store.retention_s,
        path.read_bytes(),
        runtime.store.summary(),
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(tmp_path)
    yield runtime
    runtime.store.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime, manage_runtime=False), base_url=BASE_URL) as test_client:
        yield test_client


def assert_refused(
    runtime: Runtime, send: Any, status: int, code: str, **request: Any
) -> dict[str, Any]:
    """Send the request; assert the error and that nothing changed."""
    before = snapshot(runtime)
    details = assert_error(send(**request), status, code)
    assert snapshot(runtime) == before
    return details


# -- cross-site request forgery -----------------------------------------------------------

SIMPLE_BODIES = {
    "text/plain": {"content": ATTACK_JSON, "headers": {"Content-Type": "text/plain"}},
    "no content type": {"content": ATTACK_JSON},
    "form": {"data": {"data_retention_minutes": "1"}},
    "multipart": {"files": {"data_retention_minutes": ("x", b"1")}},
    "json with a suffix": {
        "content": ATTACK_JSON,
        "headers": {"Content-Type": "application/json-patch+json"},
    },
}


@pytest.mark.parametrize("body", SIMPLE_BODIES.values(), ids=SIMPLE_BODIES)
def test_write_without_a_json_body_is_403_and_changes_nothing(
    client: TestClient, runtime: Runtime, body: dict[str, Any]
) -> None:
    assert_refused(runtime, client.post, 403, "json_required", url="/api/config", **body)


def test_json_with_a_charset_is_accepted(client: TestClient, runtime: Runtime) -> None:
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}
    response = client.post("/api/config", content=b'{"polling_interval": 2}', headers=headers)
    assert response.status_code == 200, response.text
    assert runtime.config.polling_interval == 2.0


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://evil.example:5000",
        "null",
        "http://127.0.0.1:5001",
        "http://localhost.evil.example:5000",
        "file://",
        "not a url",
    ],
)
def test_write_from_another_origin_is_403_and_changes_nothing(
    client: TestClient, runtime: Runtime, origin: str
) -> None:
    headers = {"Origin": origin}
    assert_refused(
        runtime, client.post, 403, "cross_origin", url="/api/config", json=ATTACK, headers=headers
    )


def test_write_with_another_sites_referer_and_no_origin_is_403(
    client: TestClient, runtime: Runtime
) -> None:
    headers = {"Referer": "http://evil.example/page.html"}
    assert_refused(
        runtime, client.post, 403, "cross_origin", url="/api/config", json=ATTACK, headers=headers
    )


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:5000", "[::1]:5000"])
def test_write_from_the_servers_own_page_is_accepted_under_each_loopback_name(
    client: TestClient, runtime: Runtime, host: str
) -> None:
    headers = {"Host": host, "Origin": f"http://{host}", "Referer": f"http://{host}/"}
    response = client.post("/api/config", json={"polling_interval": 3}, headers=headers)
    assert response.status_code == 200, response.text
    assert runtime.config.polling_interval == 3.0


def test_write_with_own_referer_and_no_origin_is_accepted(
    client: TestClient, runtime: Runtime
) -> None:
    response = client.post("/api/config", json={"polling_interval": 4}, headers={"Referer": OWN})
    assert response.status_code == 200, response.text


def test_script_sending_no_origin_keeps_working(client: TestClient, runtime: Runtime) -> None:
    response = client.post("/api/config", json={"data_retention_minutes": 30})
    assert response.status_code == 200, response.text
    assert runtime.store.retention_s == 30 * 60


def test_every_write_method_is_guarded_even_on_routes_that_do_not_exist(
    client: TestClient, runtime: Runtime
) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/api/config", "/api/meters", "/api/recordings/1"):
            assert_refused(
                runtime,
                client.request,
                403,
                "cross_origin",
                method=method,
                url=path,
                json=ATTACK,
                headers={"Origin": "http://evil.example"},
            )
            assert_refused(
                runtime,
                client.request,
                403,
                "json_required",
                method=method,
                url=path,
                content=ATTACK_JSON,
            )


# -- DNS rebinding ------------------------------------------------------------------------

READS = ["/", "/api/config", "/api/status", "/api/ports", "/api/data/5m", "/api/stats/5m"]
READS += ["/api/data/5m?format=csv", "/api/data/latest", "/api/stream", "/docs", "/openapi.json"]


@pytest.mark.parametrize("path", READS)
def test_read_with_a_foreign_host_is_421(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example:5000"})
    details = assert_error(response, 421, "host_not_allowed")
    assert details == {}
    assert "evil.example" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "host", ["evil.example:5000", "evil.example", "127.0.0.1:5001", "localhost", "a b", "[::1"]
)
def test_write_with_a_foreign_host_is_403_and_changes_nothing(
    client: TestClient, runtime: Runtime, host: str
) -> None:
    headers = {"Host": host, "Origin": f"http://{host}"}
    assert_refused(
        runtime,
        client.post,
        403,
        "host_not_allowed",
        url="/api/config",
        json=ATTACK,
        headers=headers,
    )


def test_allowed_hosts_are_answered_on_their_ports(tmp_path: Path) -> None:
    runtime = build_runtime(tmp_path, allowed_hosts=("pi.local", "proxy.example:8443"))
    with TestClient(create_app(runtime, manage_runtime=False), base_url=BASE_URL) as client:
        for host in ("pi.local:5000", "pi.local", "PI.LOCAL:81", "proxy.example:8443"):
            assert client.get("/api/config", headers={"Host": host}).status_code == 200, host
        for host in ("proxy.example:5000", "proxy.example", "evil.example:5000"):
            assert_error(client.get("/api/config", headers={"Host": host}), 421, "host_not_allowed")
        headers = {"Host": "pi.local:5000", "Origin": "http://pi.local:5000"}
        response = client.post("/api/config", json={"polling_interval": 2}, headers=headers)
        assert response.status_code == 200, response.text
        # Behind a proxy that rewrites Host, the public origin is accepted when it is allowed.
        headers = {"Origin": "https://proxy.example:8443"}
        response = client.post("/api/config", json={"polling_interval": 3}, headers=headers)
        assert response.status_code == 200, response.text
    runtime.store.close()


def test_allowed_host_star_answers_any_host_but_still_checks_the_origin(tmp_path: Path) -> None:
    runtime = build_runtime(tmp_path, allowed_hosts=("*",))
    with TestClient(create_app(runtime, manage_runtime=False), base_url=BASE_URL) as client:
        assert client.get("/api/config", headers={"Host": "any.example:80"}).status_code == 200
        headers = {"Host": "any.example:80", "Origin": "http://evil.example"}
        assert_refused(
            runtime,
            client.post,
            403,
            "cross_origin",
            url="/api/config",
            json=ATTACK,
            headers=headers,
        )
    runtime.store.close()


def test_listening_on_every_interface_answers_ip_addresses_but_not_names(tmp_path: Path) -> None:
    runtime = build_runtime(tmp_path, host="0.0.0.0", token="s3cret")
    with TestClient(create_app(runtime, manage_runtime=False), base_url=BASE_URL) as client:
        for host in ("192.168.1.20:5000", "[fe80::1]:5000", "localhost:5000"):
            assert client.get("/api/status", headers={"Host": host}).status_code == 200, host
        for host in ("raspberrypi.local:5000", "192.168.1.20:5001"):
            assert_error(client.get("/api/status", headers={"Host": host}), 421, "host_not_allowed")
    runtime.store.close()


def test_host_given_with_host_is_answered(tmp_path: Path) -> None:
    runtime = build_runtime(tmp_path, host="127.0.0.2", http_port=8123)
    base = "http://127.0.0.2:8123"
    with TestClient(create_app(runtime, manage_runtime=False), base_url=base) as client:
        response = client.post(
            "/api/config", json={"polling_interval": 2}, headers={"Origin": base}
        )
        assert response.status_code == 200, response.text
        assert_error(
            client.get("/api/status", headers={"Host": "127.0.0.1:5000"}), 421, "host_not_allowed"
        )
    runtime.store.close()


# -- loopback and tokens ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "exposed"),
    [
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("127.255.255.254", False),
        ("::1", False),
        ("localhost", False),
        ("127.anything", True),
        ("127.0.0.1.evil.example", True),
        ("0.0.0.0", True),
        ("::", True),
        ("192.168.1.2", True),
        ("localhost.evil.example", True),
    ],
)
def test_loopback_is_decided_on_the_address_not_a_name_prefix(host: str, exposed: bool) -> None:
    assert ServerSettings(host=host).exposed is exposed
    assert is_loopback(host) is not exposed


def test_writes_beyond_loopback_without_a_token_are_refused(tmp_path: Path) -> None:
    runtime = build_runtime(tmp_path, host="127.anything")
    with TestClient(create_app(runtime, manage_runtime=False), base_url=BASE_URL) as client:
        assert_refused(runtime, client.post, 403, "forbidden", url="/api/config", json=ATTACK)
    runtime.store.close()


def test_token_beyond_loopback_is_required_and_compared(tmp_path: Path) -> None:
    runtime = build_runtime(tmp_path, host="0.0.0.0", token="s3cret")
    with TestClient(create_app(runtime, manage_runtime=False), base_url=BASE_URL) as client:
        for supplied in (None, "Bearer nope", "s3cret", "Bearer s3cret2", "bearer s3cret"):
            headers = {"Authorization": supplied} if supplied else {}
            assert_refused(
                runtime,
                client.post,
                403,
                "forbidden",
                url="/api/config",
                json=ATTACK,
                headers=headers,
            )
        right = {"Authorization": "Bearer s3cret"}
        foreign = {**right, "Origin": "http://evil.example"}
        assert_refused(
            runtime,
            client.post,
            403,
            "cross_origin",
            url="/api/config",
            json=ATTACK,
            headers=foreign,
        )
        response = client.post("/api/config", json={"polling_interval": 2}, headers=right)
        assert response.status_code == 200, response.text
    runtime.store.close()


# -- bounded bodies -----------------------------------------------------------------------


def test_body_over_64_kib_is_413_before_being_read(client: TestClient, runtime: Runtime) -> None:
    body = b'{"data_retention_minutes": 1, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = {"Content-Type": "application/json"}
    details = assert_refused(
        runtime,
        client.post,
        413,
        "body_too_large",
        url="/api/config",
        content=body,
        headers=headers,
    )
    assert details == {}


def test_chunked_body_over_64_kib_is_413(client: TestClient, runtime: Runtime) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"data_retention_minutes": 1, "pad": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    headers = {"Content-Type": "application/json"}
    assert_refused(
        runtime,
        client.post,
        413,
        "body_too_large",
        url="/api/config",
        content=chunks(),
        headers=headers,
    )


def test_small_chunked_body_reaches_the_route(client: TestClient, runtime: Runtime) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"polling_interval": '
        yield b"5}"

    headers = {"Content-Type": "application/json"}
    response = client.post("/api/config", content=chunks(), headers=headers)
    assert response.status_code == 200, response.text
    assert runtime.config.polling_interval == 5.0


def test_unknown_key_is_not_echoed_at_length(client: TestClient, runtime: Runtime) -> None:
    key = "k" * (MAX_BODY_BYTES - 100)
    response = client.post("/api/config", json={key: 1})
    details = assert_error(response, 400, "invalid_config")
    assert len(response.content) < 1000
    (shown,) = details["fields"]
    assert shown.startswith("kkkk") and shown.endswith("...") and len(shown) < 50


# -- headers, 405, docs, OpenAPI ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/api/config"),
        ("GET", "/static/js/main.js"),
        ("GET", "/api/nope"),
        ("GET", "/docs"),
        ("DELETE", "/api/config"),
        ("POST", "/api/config"),
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, content=b"x")
    for name, value in SECURITY_HEADERS.items():
        if name != "Content-Security-Policy":
            assert response.headers[name] == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "unsafe-eval" not in policy


def test_refusals_carry_the_security_headers(client: TestClient) -> None:
    response = client.get("/api/config", headers={"Host": "evil.example:5000"})
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_dashboard_policy_allows_no_inline_script(client: TestClient) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    script = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert script == "script-src 'self'"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/config", "GET, POST"),
        ("PUT", "/api/status", "GET"),
        ("POST", "/api/data/5m", "GET"),
        ("PATCH", "/static/favicon.svg", "GET, HEAD"),
    ],
)
def test_405_names_the_allowed_methods(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path, json={})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


def test_docs_load_swagger_ui_from_this_server_only(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text and "//" not in page.text
    assert "'sha256-" in page.headers["Content-Security-Policy"]
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = client.get(f"/static/vendor/swagger-ui/{asset}")
        assert response.status_code == 200 and len(response.content) > 100_000, asset
    assert client.get("/redoc").status_code == 404


def test_openapi_documents_400_never_422_and_the_guards_statuses(client: TestClient) -> None:
    raw = client.get("/openapi.json").text
    assert "422" not in raw and "HTTPValidationError" not in raw
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    post = paths["/api/config"]["post"]["responses"]
    assert {"200", "400", "403", "413", "503"} <= set(post)
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method == "get":
                assert "421" in operation["responses"], path
    assert "400" in paths["/api/data/{period}"]["get"]["responses"]
    assert "503" in paths["/api/stream"]["get"]["responses"]
    assert "503" in paths["/api/data/latest"]["get"]["responses"]
    refs = {part.split('"')[0] for part in raw.split('"$ref":"')[1:]}
    for ref in refs:
        assert ref.removeprefix("#/components/schemas/") in spec["components"]["schemas"], ref


def test_split_host_reads_names_ports_and_ipv6() -> None:
    assert split_host("LocalHost:5000") == ("localhost", 5000)
    assert split_host("[0:0::1]:5000") == ("[::1]", 5000)
    assert split_host("example.org") == ("example.org", None)
    for bad in ("", "a:", "a:0", "a:65536", "a:1:2", "[::1", "[::1]x", "a b", "x:+1", "é:1"):
        assert split_host(bad) is None, bad
