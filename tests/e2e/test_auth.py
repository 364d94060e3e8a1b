"""Bearer-token authentication on every route, named tokens with per-database permissions."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from influxdb import InfluxDBClient as V1Client
from influxdb_client import InfluxDBClient as V2Client
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import SYNCHRONOUS

from bench.edge import EdgeServer, run_edge
from edge_common.auth import hash_token, new_token
from edge_common.settings import Settings
from edge_gateway.app import create_app
from tests.e2e.conftest import run_secured
from tests.routes import api_routes

ADMIN = new_token()

# every route of the app, with a request that would succeed for a token allowed to do it
ROUTES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/api/v3/write_lp"): {"params": {"db": "authdb"}, "content": "m v=1", "act": "w"},
    ("POST", "/api/v2/write"): {"params": {"bucket": "authdb"}, "content": "m v=2", "act": "w"},
    ("POST", "/write"): {"params": {"db": "authdb"}, "content": "m v=3", "act": "w"},
    ("GET", "/api/v3/query_sql"): {"params": {"db": "authdb", "q": "SELECT 1"}, "act": "r"},
    ("POST", "/api/v3/query_sql"): {"json": {"db": "authdb", "q": "SELECT 1"}, "act": "r"},
    ("GET", "/health"): {"act": "any"},
    ("GET", "/metrics"): {"act": "admin"},
    ("GET", "/debug/vars"): {"act": "admin"},
    ("GET", "/ping"): {"act": "any"},
    ("HEAD", "/ping"): {"act": "any"},
    ("POST", "/api/v3/configure/token"): {
        "json": {"name": "made-by-test", "permissions": ["db:x:read"]},
        "act": "admin",
    },
    ("GET", "/api/v3/configure/token"): {"act": "admin"},
    ("DELETE", "/api/v3/configure/token"): {"params": {"name": "nonexistent"}, "act": "admin"},
    ("POST", "/api/v3/flush"): {"act": "admin"},
    ("GET", "/query"): {"params": {"db": "authdb", "q": "SHOW MEASUREMENTS"}, "act": "r"},
    ("POST", "/query"): {"params": {"db": "authdb", "q": "SHOW MEASUREMENTS"}, "act": "r"},
    ("GET", "/api/v3/query_influxql"): {
        "params": {"db": "authdb", "q": "SHOW MEASUREMENTS"},
        "act": "r",
    },
    ("POST", "/api/v3/query_influxql"): {
        "json": {"db": "authdb", "q": "SHOW MEASUREMENTS"},
        "act": "r",
    },
}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    with run_secured(tmp_path_factory.mktemp("auth") / "data", ADMIN) as server:
        yield server


def admin_client(edge: EdgeServer) -> httpx.Client:
    return httpx.Client(base_url=edge.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)


def make_token(edge: EdgeServer, name: str, *perms: str, expiry: int | None = None) -> str:
    body: dict[str, object] = {"name": name, "permissions": list(perms)}
    if expiry:
        body["expiry_secs"] = expiry
    with admin_client(edge) as c:
        r = c.post("/api/v3/configure/token", json=body)
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token


def test_every_route_is_in_the_table() -> None:
    app = create_app(Settings())
    found = {(m, r.path) for r in api_routes(list(app.routes)) for m in r.methods}
    assert found, "no routes found: the app's route tree changed shape"
    assert found == set(ROUTES), "a route was added: give it a row in ROUTES"


def call(edge: EdgeServer, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    spec = dict(ROUTES[(method, path)])
    spec.pop("act")
    return httpx.request(method, edge.url + path, headers=headers, timeout=30, **spec)  # type: ignore[arg-type]


def test_every_route_refuses_what_it_must(secured: EdgeServer) -> None:
    read_a = make_token(secured, "read-a", "db:authdb:read")
    write_other = make_token(secured, "write-other", "db:otherdb:read,write")
    deleted = make_token(secured, "deleted", "db:*:read,write")
    expired = make_token(secured, "expired", "db:*:read,write", expiry=1)
    with admin_client(secured) as c:
        assert c.delete("/api/v3/configure/token", params={"name": "deleted"}).status_code == 204
    time.sleep(1.2)
    cases = {
        "no header": ({}, 401),
        "wrong token": ({"Authorization": f"Bearer {new_token()}"}, 401),
        "malformed header": ({"Authorization": "Bearer"}, 400),
        "malformed basic": ({"Authorization": "Basic ***"}, 400),
        "unknown scheme": ({"Authorization": "Digest abc"}, 400),
        "deleted token": ({"Authorization": f"Bearer {deleted}"}, 401),
        "expired token": ({"Authorization": f"Token {expired}"}, 401),
    }
    for (method, path), spec in ROUTES.items():
        for case, (headers, status) in cases.items():
            r = call(secured, method, path, headers)
            assert r.status_code == status, (method, path, case, r.text)
            if method != "HEAD" and status == 401:
                body = r.json()
                assert "not authenticated" in body.get("error", body.get("message", ""))
        act = spec["act"]
        other = call(secured, method, path, {"Authorization": f"Bearer {write_other}"})
        reader = call(secured, method, path, {"Authorization": f"Bearer {read_a}"})
        if act == "w":
            assert other.status_code == 403, (path, other.text)
            assert reader.status_code == 403, (path, reader.text)
        elif act == "r":
            assert other.status_code == 403, (path, other.text)
            assert reader.status_code in (200, 404), (path, reader.text)
        elif act == "admin":
            assert other.status_code == 403 and reader.status_code == 403
        else:
            assert other.status_code in (200, 204) and reader.status_code in (200, 204)
    # nothing of those refused writes went in, nor any token
    with admin_client(secured) as c:
        r = c.get("/api/v3/query_sql", params={"db": "authdb", "q": "SELECT 1"})
        assert r.status_code == 404, r.text
        names = {t["name"] for t in c.get("/api/v3/configure/token").json()}
        assert "made-by-test" not in names and "deleted" not in names


def test_admin_and_named_tokens_work_in_every_header_form(secured: EdgeServer) -> None:
    writer = make_token(secured, "writer", "db:forms:write", "db:forms:read")
    basic = base64.b64encode(f"anyuser:{writer}".encode()).decode()
    forms = [
        {"Authorization": f"Bearer {ADMIN}"},
        {"Authorization": f"Token {writer}"},
        {"Authorization": f"Basic {basic}"},
    ]
    for i, headers in enumerate(forms):
        r = httpx.post(
            f"{secured.url}/api/v3/write_lp",
            params={"db": "forms"},
            content=f"m v={i}",
            headers=headers,
        )
        assert r.status_code == 204, r.text
    r = httpx.post(
        f"{secured.url}/write", params={"db": "forms", "u": "x", "p": writer}, content="m v=9"
    )
    assert r.status_code == 204, r.text
    r = httpx.get(
        f"{secured.url}/api/v3/query_sql",
        params={"db": "forms", "q": "SELECT count(*) AS c FROM m"},
        headers=forms[1],
    )
    assert r.json() == [{"c": 4}]
    # ?p= is for the 1.x routes only
    r = httpx.get(
        f"{secured.url}/api/v3/query_sql", params={"db": "forms", "q": "SELECT 1", "p": writer}
    )
    assert r.status_code == 401


def test_real_clients_with_tokens(secured: EdgeServer) -> None:
    token = make_token(secured, "clients", "db:cl:read,write")
    with V2Client(url=secured.url, token=token, org="o") as client:
        client.write_api(write_options=SYNCHRONOUS).write("cl", record="m v=1 1")
    with (
        V2Client(url=secured.url, token="wrong", org="o") as client,
        pytest.raises(InfluxDBError) as err,
    ):
        client.write_api(write_options=SYNCHRONOUS).write("cl", record="m v=1 1")
    assert err.value.response.status == 401
    port = int(secured.url.rsplit(":", 1)[1])
    v1 = V1Client(host="127.0.0.1", port=port, username="me", password=token, database="cl")
    assert v1.write_points([{"measurement": "m", "fields": {"v": 2.0}, "time": 2}])
    v1.close()
    bad = V1Client(host="127.0.0.1", port=port, username="me", password="nope", database="cl")
    with pytest.raises(Exception, match=r"401|not authenticated"):
        bad.write_points([{"measurement": "m", "fields": {"v": 3.0}, "time": 3}])
    bad.close()
    r = httpx.get(
        f"{secured.url}/api/v3/query_sql",
        headers={"Authorization": f"Bearer {token}"},
        params={"db": "cl", "q": "SELECT count(*) AS c FROM m"},
    )
    assert r.json() == [{"c": 2}]


def test_cli_token_verbs(secured: EdgeServer) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "edge_cli", *args], capture_output=True, text=True, timeout=60
        )

    r = cli("create", "token")
    assert r.returncode == 0
    raw = r.stdout.split("Token: ")[1].split()[0]
    assert f"Hashed Token: {hash_token(raw)}" in r.stdout
    assert "--bearer-token" in r.stdout and "Authorization: Bearer" in r.stdout
    conn = ["--host", secured.url, "--token", ADMIN]
    r = cli("create", "token", *conn, "--name", "cli-made", "--permission", "db:c:read")
    assert r.returncode == 0, r.stderr
    made = r.stdout.split("Token: ")[1].split()[0]
    assert "cli-made" in cli("show", "tokens", *conn).stdout
    r = cli("query", "--host", secured.url, "--token", made, "-d", "c", "SELECT 1")
    assert r.returncode == 1 and "404" in r.stderr  # authenticated, database does not exist
    r = cli("write", "--host", secured.url, "--token", made, "-d", "c", "m v=1")
    assert r.returncode == 1 and "403" in r.stderr
    assert cli("delete", "token", *conn, "--name", "cli-made").returncode == 0
    r = cli("query", "--host", secured.url, "--token", made, "-d", "c", "SELECT 1")
    assert r.returncode == 1 and "401" in r.stderr
    r = cli("show", "tokens", "--host", secured.url, "--token", made)
    assert r.returncode == 1 and "401" in r.stderr


def test_raw_tokens_appear_in_no_log_and_no_file(secured: EdgeServer) -> None:
    named = make_token(secured, "secret-check", "db:*:read")
    httpx.get(f"{secured.url}/health", headers={"Authorization": f"Bearer {named}"})
    httpx.get(f"{secured.url}/health", headers={"Authorization": "Bearer not-a-real-token"})
    for raw in (ADMIN, named):
        assert raw not in secured.log()
        for path in Path(secured.data_dir).rglob("*"):
            if path.is_file():
                assert raw.encode() not in path.read_bytes(), path
    assert hash_token(named) in "".join(
        p.read_text() for p in Path(secured.data_dir).rglob("*.json")
    )


def test_exemptions_and_brute_force_limit(tmp_path: Path) -> None:
    with run_edge(
        tmp_path / "data",
        "--bearer-token",
        hash_token(ADMIN),
        "--disable-authz",
        "health,ping,metrics",
        "--auth-max-failures",
        "5",
        "--auth-failure-window-s",
        "30",
        "--ingest-workers",
        "1",
        "--query-workers",
        "1",
    ) as edge:
        assert httpx.get(f"{edge.url}/health").status_code == 200
        assert httpx.get(f"{edge.url}/ping").status_code == 204
        assert httpx.get(f"{edge.url}/metrics").status_code == 200
        assert httpx.get(f"{edge.url}/debug/vars").status_code == 401  # metrics only
        assert httpx.get(f"{edge.url}/api/v3/query_sql").status_code == 401
        statuses = [
            httpx.get(
                f"{edge.url}/api/v3/query_sql",
                params={"db": "x", "q": "SELECT 1"},
                headers={"Authorization": f"Bearer guess{i}"},
            ).status_code
            for i in range(8)
        ]
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3
        r = httpx.get(
            f"{edge.url}/api/v3/query_sql",
            params={"db": "x", "q": "SELECT 1"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_influx_cli_with_username_and_password(secured: EdgeServer) -> None:
    token = make_token(secured, "cli-user", "db:clidb2:read,write")
    port = secured.url.rsplit(":", 1)[1]

    def influx(password: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "influx",
                "-host",
                "127.0.0.1",
                "-port",
                port,
                "-username",
                "someone",
                "-password",
                password,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    with admin_client(secured) as c:
        c.post("/api/v3/write_lp", params={"db": "clidb2"}, content="m v=1")
    r = influx(token, "-database", "clidb2", "-execute", "SHOW MEASUREMENTS")
    assert r.returncode == 0 and "m" in r.stdout, r.stdout + r.stderr
    r = influx(token, "-database", "clidb2", "-execute", "SELECT count(v) FROM m")
    assert r.returncode == 0 and " 1" in r.stdout, r.stdout + r.stderr
    r = influx("wrong", "-database", "clidb2", "-execute", "SHOW MEASUREMENTS")
    assert r.returncode != 0 or "not authenticated" in r.stdout + r.stderr


def test_a_database_token_sees_nothing_of_other_databases(secured: EdgeServer) -> None:
    with admin_client(secured) as c:
        for db in ("seen", "unseen"):
            assert c.post("/api/v3/write_lp", params={"db": db}, content="m v=1").status_code == 204
    token = make_token(secured, "only-seen", "db:seen:read")
    auth = {"Authorization": f"Bearer {token}"}
    r = httpx.get(f"{secured.url}/query", params={"q": "SHOW DATABASES"}, headers=auth)
    names = [v[0] for v in r.json()["results"][0]["series"][0]["values"]]
    assert names == ["seen"]
    r = httpx.get(f"{secured.url}/query", params={"q": "SELECT * FROM unseen..m"}, headers=auth)
    assert "unseen" not in r.text or "not found" in r.text
    assert "series" not in r.json()["results"][0]
    r = httpx.get(
        f"{secured.url}/query", params={"db": "unseen", "q": "SHOW MEASUREMENTS"}, headers=auth
    )
    assert r.status_code == 403
