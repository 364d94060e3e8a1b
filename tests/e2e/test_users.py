"""1.x users on a server with authentication: made with the ``influxdb`` client's user calls
by the admin token, then logging in as those users with every way 1.x and 2.x clients send
a name and password (``u``/``p``, a form body, Basic, ``Token user:password``, the influx
CLI, a Flight Basic handshake). (The statements' answers: tests/compat, test_users_….)"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator

import httpx
import pyarrow.flight as flight
import pytest
from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError

from bench.edge import EdgeServer, run_edge
from bench.influxd import run_influxd
from edge_common.auth import hash_token, new_token
from tests.e2e.conftest import run_secured

ADMIN = new_token()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    with run_secured(tmp_path_factory.mktemp("users") / "data", ADMIN) as edge:
        admin = _client(edge, "root", ADMIN)  # a 1.x client sending the token as password
        for db in ("udb", "other"):
            admin.create_database(db)
            admin.write_points([{"measurement": "m", "fields": {"v": 1.0}}], database=db)
        yield edge


def _client(edge: EdgeServer, user: str, password: str, db: str = "udb") -> InfluxDBClient:
    host, port = edge.url.removeprefix("http://").split(":")
    return InfluxDBClient(host, int(port), user, password, db)


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_admin_manages_users_with_the_influxdb_client(secured: EdgeServer) -> None:
    admin = _client(secured, "root", ADMIN)
    admin.create_user("reader", "r-pw")
    admin.create_user("boss", "b-pw", admin=True)
    admin.grant_privilege("read", "udb", "reader")
    assert admin.get_list_users() == [
        {"user": "reader", "admin": False},
        {"user": "boss", "admin": True},
    ]
    assert admin.get_list_privileges("reader") == [{"database": "udb", "privilege": "READ"}]
    # a user who may read one database reads it, and nothing else
    reader = _client(secured, "reader", "r-pw")
    assert [p["v"] for p in reader.query("SELECT v FROM m").get_points()] == [1]
    with pytest.raises(InfluxDBClientError) as refused:
        reader.write_points([{"measurement": "m", "fields": {"v": 2.0}}])
    assert refused.value.code == 403
    assert "user 'reader' may not write database 'udb'" in str(refused.value.content)
    with pytest.raises(InfluxDBClientError, match="may not read database 'other'"):
        reader.query("SELECT v FROM m", database="other")
    assert reader.get_list_database() == [{"name": "udb"}]
    # only an admin manages users
    with pytest.raises(InfluxDBClientError) as refused:  # the whole request, as influxd
        reader.create_user("mallory", "x", admin=True)
    assert refused.value.code == 403
    assert "reader not authorized to execute statement 'CREATE USER mallory WITH PASSWORD " in (
        str(refused.value.content)
    )
    assert "[REDACTED] WITH ALL PRIVILEGES', requires admin privilege" in str(refused.value)
    # an admin user does what the admin token does
    boss = _client(secured, "boss", "b-pw")
    boss.grant_privilege("all", "udb", "reader")
    reader.write_points([{"measurement": "m", "fields": {"v": 2.0}}])  # at once, no wait
    assert admin.get_list_privileges("reader") == [
        {"database": "udb", "privilege": "ALL PRIVILEGES"}
    ]
    r = httpx.get(f"{secured.url}/api/v3/configure/token", headers=_basic("boss", "b-pw"))
    assert r.status_code == 200, r.text


def test_a_wrong_password_a_new_password_and_a_dropped_user(secured: EdgeServer) -> None:
    admin = _client(secured, "root", ADMIN)
    admin.create_user("carol", "old")
    admin.grant_privilege("read", "udb", "carol")
    ask = {"q": "SHOW DATABASES"}
    r = httpx.get(f"{secured.url}/query", params={**ask, "u": "carol", "p": "old"})
    assert r.status_code == 200, r.text
    r = httpx.get(f"{secured.url}/query", params={**ask, "u": "carol", "p": "wrong"})
    assert (r.status_code, r.json()) == (401, {"error": "authorization failed"})
    admin.set_user_password("carol", "new")
    r = httpx.get(f"{secured.url}/query", params={**ask, "u": "carol", "p": "old"})
    assert r.status_code == 401  # at once: the gateway looks the users up again
    r = httpx.post(f"{secured.url}/query", data={**ask, "u": "carol", "p": "new"})  # a form
    assert r.json()["results"][0]["series"][0]["values"] == [["udb"]]
    admin.revoke_privilege("read", "udb", "carol")
    r = httpx.get(f"{secured.url}/query", params={**ask, "u": "carol", "p": "new"})
    assert "values" not in r.json()["results"][0]["series"][0]  # sees no database now
    admin.drop_user("carol")
    r = httpx.get(f"{secured.url}/query", params={**ask, "u": "carol", "p": "new"})
    assert r.status_code == 401


def test_basic_token_and_the_influx_cli_log_in_as_a_user(secured: EdgeServer) -> None:
    admin = _client(secured, "root", ADMIN)
    admin.create_user("dave", "d:pw")  # a ':' in the password, which Basic allows
    admin.grant_privilege("write", "udb", "dave")
    # InfluxDB 1.8's 2.x-compatible form, on the v2 write API
    r = httpx.post(
        f"{secured.url}/api/v2/write",
        params={"bucket": "udb"},
        content="m v=3",
        headers={"Authorization": "Token dave:d:pw"},
    )
    assert r.status_code == 204, r.text
    r = httpx.post(
        f"{secured.url}/api/v2/write",
        params={"bucket": "other"},
        content="m v=3",
        headers={"Authorization": "Token dave:d:pw"},
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    r = httpx.post(
        f"{secured.url}/write",
        params={"db": "udb"},
        content="m v=4",
        headers=_basic("dave", "d:pw"),
    )
    assert r.status_code == 204, r.text
    admin.grant_privilege("read", "other", "dave")
    port = secured.url.rsplit(":", 1)[1]
    cli = ["influx", "-host", "127.0.0.1", "-port", port, "-username", "dave"]
    run = subprocess.run(
        [*cli, "-password", "d:pw", "-database", "other", "-execute", "SELECT v FROM m"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and "name: m" in run.stdout, run.stdout + run.stderr
    run = subprocess.run(
        [*cli, "-password", "nope", "-execute", "SHOW DATABASES"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "authorization failed" in run.stdout + run.stderr


def test_flight_basic_handshake_as_a_user(secured: EdgeServer) -> None:
    admin = _client(secured, "root", ADMIN)
    admin.create_user("erin", "e-pw")
    admin.grant_privilege("read", "other", "erin")
    c = flight.FlightClient(secured.url.replace("http://", "grpc+tcp://"))
    with pytest.raises(flight.FlightUnauthenticatedError):
        c.authenticate_basic_token(b"erin", b"wrong")
    name, value = c.authenticate_basic_token(b"erin", b"e-pw")
    opts = flight.FlightCallOptions(headers=[(name, value)])
    ticket = {"database": "other", "sql_query": "SELECT v FROM m"}
    got = c.do_get(flight.Ticket(json.dumps(ticket).encode()), opts).read_all()
    assert got.to_pylist() == [{"v": 1.0}]
    ticket["database"] = "udb"
    with pytest.raises(flight.FlightUnauthorizedError, match="user 'erin' may not read"):
        c.do_get(flight.Ticket(json.dumps(ticket).encode()), opts).read_all()
    c.close()


def test_users_survive_a_restart(
    secured: EdgeServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = tmp_path_factory.mktemp("users-restart") / "data"
    args = ("--bearer-token", hash_token(ADMIN))
    with run_edge(data, *args, token=ADMIN) as edge:
        admin = _client(edge, "root", ADMIN)
        admin.create_database("kept")
        admin.create_user("frank", "f-pw")
        admin.grant_privilege("read", "kept", "frank")
    with run_edge(data, *args, token=ADMIN) as edge:
        frank = _client(edge, "frank", "f-pw", "kept")
        assert frank.get_list_database() == [{"name": "kept"}]
        assert _client(edge, "root", ADMIN).get_list_privileges("frank") == [
            {"database": "kept", "privilege": "READ"}
        ]


def test_refusals_like_influxd_with_authentication(
    secured: EdgeServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same users on influxd 1.6.7 with authentication on: a wrong password, and a user
    who is no admin sending statements only an admin may run, get the same status and
    message from both."""
    setup = [
        "CREATE USER boss2 WITH PASSWORD 'b' WITH ALL PRIVILEGES",
        "CREATE DATABASE refdb",
        "CREATE USER gina WITH PASSWORD 'g'",
        "GRANT READ ON refdb TO gina",
    ]
    asks = [
        ("gina", "g", "SHOW USERS"),
        ("gina", "g", "SET PASSWORD FOR gina = 'new'"),
        ("gina", "g", "SHOW DATABASES; CREATE USER eve WITH PASSWORD 'e' WITH ALL PRIVILEGES"),
        ("gina", "g", 'SHOW GRANTS FOR "gina"'),
        ("gina", "g", "REVOKE ALL PRIVILEGES FROM boss2"),
        ("gina", "wrong", "SHOW DATABASES"),
        ("nobody", "x", "SHOW DATABASES"),
        ("boss2", "b", 'SHOW GRANTS FOR "gina"'),
    ]
    with run_influxd(tmp_path_factory.mktemp("influxd-auth"), auth=True) as influxd:
        for i, q in enumerate(setup):  # (influxd: the first admin may be made by anyone)
            auth = {} if i == 0 else {"u": "boss2", "p": "b"}
            assert httpx.post(f"{influxd}/query", params={"q": q, **auth}).status_code == 200
            r = httpx.post(
                f"{secured.url}/query",
                params={"q": q},
                headers={"Authorization": f"Bearer {ADMIN}"},
            )
            assert r.status_code == 200, r.text
        for user, password, q in asks:
            answers = [
                httpx.post(f"{base}/query", params={"q": q, "u": user, "p": password})
                for base in (influxd, secured.url)
            ]
            theirs, ours = ((r.status_code, r.json()) for r in answers)
            if user == "nobody":  # influxd: no such user; Edge: p is then a token, unknown
                assert (theirs[0], ours[0]) == (401, 401), (q, theirs, ours)
                continue
            assert ours == theirs, q
