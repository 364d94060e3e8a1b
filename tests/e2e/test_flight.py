"""Arrow Flight and Flight SQL with the real clients: influxdb3-python (DoGet with a JSON
ticket) and ADBC Flight SQL, on the HTTP port and on --flight-bind; answers equal HTTP's."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import adbc_driver_flightsql.dbapi as flightsql
import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
import pyarrow.parquet as pq
import pytest
from adbc_driver_flightsql import DatabaseOptions
from influxdb_client_3 import InfluxDBClient3

from bench.edge import EdgeServer, run_edge
from bench.influxd import free_port
from edge_common.auth import new_token
from edge_gateway.flight import sqlproto
from tests.e2e.conftest import run_secured

DB = "flightdb"
# every field type, tags needing escapes, sparse fields, an overwritten point
LINES = "\n".join(
    [
        'cpu,host=a,region=us\\ west usage=1.5,n=3i,u=7u,ok=true,note="x y" 1700000000000000000',
        "cpu,host=b,region=eu usage=2.5,n=4i 1700000001000000000",
        "cpu,host=a,region=us\\ west usage=9.5 1700000000000000000",
        'cpu,host=c usage=0.5,note="z" 1700000002000000000',
        "mem,host=a free=10i,used=0.25 1700000000000000000",
    ]
)
# enough rows for an answer of several Arrow chunks, with many distinct tag values
BIG_ROWS = 60_000


def _big_lines() -> str:
    return "\n".join(
        f"big,host=h{i % 997},rack=r{i % 13} v={i}.5,w={i}i {1_600_000_000_000_000_000 + i * 1000}"
        for i in range(BIG_ROWS)
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EdgeServer, int]]:
    port = free_port()
    with run_edge(
        tmp_path_factory.mktemp("flight") / "data", "--flight-bind", f"127.0.0.1:{port}"
    ) as edge:
        for body in (LINES, _big_lines()):
            r = httpx.post(f"{edge.url}/api/v3/write_lp", params={"db": DB}, content=body)
            assert r.status_code == 204, r.text
        yield edge, port


@pytest.fixture(scope="module")
def client(server: tuple[EdgeServer, int]) -> Iterator[InfluxDBClient3]:
    edge, _ = server
    c = InfluxDBClient3(host=edge.url, token="unused", database=DB)
    yield c
    c.close()


def _http_parquet(edge: EdgeServer, path: str, q: str, **params: Any) -> pa.Table:
    r = httpx.get(
        f"{edge.url}{path}", params={"db": DB, "q": q, "format": "parquet", **params}, timeout=60
    )
    assert r.status_code == 200, r.text
    return pq.read_table(io.BytesIO(r.content))


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


SQL = [
    "SELECT * FROM cpu ORDER BY time, host",
    "SELECT host, avg(usage) AS u, count(*) AS c FROM cpu GROUP BY host ORDER BY host",
    "SELECT * FROM mem",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'iox' ORDER BY 1",
]


@pytest.mark.parametrize("q", SQL)
def test_influxdb3_client_sql_equals_http(
    server: tuple[EdgeServer, int], client: InfluxDBClient3, q: str
) -> None:
    edge, _ = server
    got = client.query(q)
    assert isinstance(got, pa.Table)
    assert _rows(got) == _rows(_http_parquet(edge, "/api/v3/query_sql", q))


def test_tags_are_dictionaries_and_types_survive(client: InfluxDBClient3) -> None:
    t = client.query("SELECT * FROM cpu ORDER BY time, host")
    assert pa.types.is_dictionary(t.schema.field("host").type)
    assert t.schema.field("usage").type == pa.float64()
    assert t.schema.field("n").type == pa.int64()
    assert t.schema.field("u").type == pa.uint64()
    assert t.schema.field("ok").type == pa.bool_()
    assert t.schema.field("time").type == pa.timestamp("ns")
    first = t.to_pylist()[0]
    assert first["region"] == "us west"
    assert first["usage"] == 9.5  # the later write of the same point wins


def test_large_answer_streams_in_several_chunks(
    server: tuple[EdgeServer, int], client: InfluxDBClient3
) -> None:
    edge, _ = server
    q = "SELECT * FROM big ORDER BY time"
    reader = client.query(q, mode="reader")
    batches = list(reader)
    assert len(batches) > 1
    got = pa.Table.from_batches(batches)
    assert got.num_rows == BIG_ROWS
    want = _http_parquet(edge, "/api/v3/query_sql", q)
    assert got.column("host").to_pylist() == want.column("host").to_pylist()
    assert got.column("v").to_pylist() == want.column("v").to_pylist()


def test_params(client: InfluxDBClient3) -> None:
    got = client.query(
        "SELECT host, usage FROM cpu WHERE host = $h AND usage > $min ORDER BY time",
        query_parameters={"h": "b", "min": 1.0},
    )
    assert got.to_pylist() == [{"host": "b", "usage": 2.5}]


def test_pandas_mode(client: InfluxDBClient3) -> None:
    df = client.query("SELECT host, usage FROM cpu ORDER BY time, host", mode="pandas")
    assert isinstance(df, pd.DataFrame)
    assert list(df["usage"]) == [9.5, 2.5, 0.5]


@pytest.mark.parametrize(
    "q",
    [
        "SELECT mean(usage) FROM cpu GROUP BY host",
        "SELECT usage, n FROM cpu WHERE host = 'a'",
        "SHOW MEASUREMENTS",
        "SHOW TAG KEYS FROM cpu",
        "SELECT count(v) FROM big GROUP BY rack",
    ],
)
def test_influxdb3_client_influxql_equals_http(
    server: tuple[EdgeServer, int], client: InfluxDBClient3, q: str
) -> None:
    edge, _ = server
    got = client.query(q, language="influxql")
    assert _rows(got) == _rows(_http_parquet(edge, "/api/v3/query_influxql", q))
    assert got.column_names[0] == "iox::measurement"


def test_influxql_params(client: InfluxDBClient3) -> None:
    got = client.query(
        "SELECT usage FROM cpu WHERE host = $h", language="influxql", query_parameters={"h": "b"}
    )
    assert [r["usage"] for r in got.to_pylist()] == [2.5]


def test_show_stats_and_show_queries_over_flight(client: InfluxDBClient3) -> None:
    """The statistics and the running queries come with Flight requests too."""
    got = client.query("SHOW STATS FOR 'queryExecutor'", language="influxql").to_pylist()
    assert len(got) == 1 and got[0]["queriesExecuted"] >= 1
    (row,) = client.query("SHOW QUERIES", language="influxql").to_pylist()
    assert (row["query"], row["status"]) == ("SHOW QUERIES", "running")


def _refusal(call: Any) -> Exception:
    with pytest.raises(Exception) as info:
        call()
    return info.value


def test_errors_map_to_grpc_codes_with_http_messages(server: tuple[EdgeServer, int]) -> None:
    edge, _ = server
    c = flight.FlightClient(f"grpc+tcp://127.0.0.1:{edge.url.rsplit(':', 1)[1]}")

    def get(doc: dict[str, Any] | bytes) -> None:
        raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        c.do_get(flight.Ticket(raw)).read_all()

    with pytest.raises(pa.ArrowKeyError, match="database not found: nodb"):  # NOT_FOUND
        get({"database": "nodb", "sql_query": "SELECT 1", "query_type": "sql"})
    with pytest.raises(pa.ArrowInvalid, match=r"table 'public\.iox\.nope' not found"):
        get({"database": DB, "sql_query": "SELECT * FROM nope", "query_type": "sql"})
    with pytest.raises(pa.ArrowInvalid, match="unknown query language 'flux'"):
        get({"database": DB, "sql_query": "x", "query_type": "flux"})
    with pytest.raises(pa.ArrowInvalid, match="missing database"):
        get({"sql_query": "SELECT 1"})
    with pytest.raises(pa.ArrowInvalid, match="not JSON"):
        get(b"\xffnot json")
    with pytest.raises(pa.ArrowInvalid, match="found"):  # InfluxQL's own parse error
        get({"database": DB, "sql_query": "SELEC nonsense", "query_type": "influxql"})
    # the server keeps serving
    t = c.do_get(
        flight.Ticket(json.dumps({"database": DB, "sql_query": "SELECT 1 AS one"}).encode())
    ).read_all()
    assert t.to_pylist() == [{"one": 1}]
    with pytest.raises(NotImplementedError):
        c.do_exchange(flight.FlightDescriptor.for_command(b"x"))[1].read_all()
    c.close()


def _adbc(url: str, database: str = DB, language: str | None = None) -> Any:
    kwargs = {
        DatabaseOptions.AUTHORIZATION_HEADER.value: "Bearer unused",
        "adbc.flight.sql.rpc.call_header.database": database,
    }
    if language:
        kwargs["adbc.flight.sql.rpc.call_header.x-influxdata-query-language"] = language
    return flightsql.connect(url, db_kwargs=kwargs, autocommit=True)  # no transactions


@pytest.mark.parametrize("via", ["http port", "flight port"])
def test_adbc_flight_sql(server: tuple[EdgeServer, int], via: str) -> None:
    edge, port = server
    url = edge.url.replace("http://", "grpc://")
    if via == "flight port":
        url = f"grpc://127.0.0.1:{port}"
    with _adbc(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT host, usage FROM cpu ORDER BY time, host")
        table = cur.fetch_arrow_table()
        assert table.to_pylist() == _rows(
            _http_parquet(
                edge, "/api/v3/query_sql", "SELECT host, usage FROM cpu ORDER BY time, host"
            )
        )
        cur.execute("SELECT host, usage FROM cpu WHERE host = $1 AND usage > $2", ("b", 1.0))
        assert cur.fetch_arrow_table().to_pylist() == [{"host": "b", "usage": 2.5}]
        cur.execute("SELECT count(*) AS c FROM big")
        assert cur.fetchall() == [(BIG_ROWS,)]

        schema = conn.adbc_get_table_schema("cpu")
        assert set(schema.names) == {"host", "n", "note", "ok", "region", "time", "u", "usage"}
        objects = conn.adbc_get_objects().read_all().to_pylist()
        assert [c["catalog_name"] for c in objects] == ["public"]
        schemas = {s["db_schema_name"]: s for s in objects[0]["catalog_db_schemas"]}
        assert {t["table_name"] for t in schemas["iox"]["db_schema_tables"]} == {
            "big",
            "cpu",
            "mem",
        }
        assert "information_schema" in schemas
        assert set(conn.adbc_get_table_types()) == {"BASE TABLE", "VIEW"}
        assert conn.adbc_get_info()["vendor_name"] == "Edge"


def test_adbc_influxql_by_header(server: tuple[EdgeServer, int]) -> None:
    edge, _ = server
    with (
        _adbc(edge.url.replace("http://", "grpc://"), language="influxql") as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT mean(usage) FROM cpu GROUP BY host")
        got = cur.fetch_arrow_table()
    want = _http_parquet(
        edge, "/api/v3/query_influxql", "SELECT mean(usage) FROM cpu GROUP BY host"
    )
    assert got.to_pylist() == want.to_pylist()


def test_adbc_unknown_database(server: tuple[EdgeServer, int]) -> None:
    edge, _ = server
    with (
        _adbc(edge.url.replace("http://", "grpc://"), database="nodb") as conn,
        conn.cursor() as cur,
        pytest.raises(Exception, match="database not found: nodb"),
    ):
        cur.execute("SELECT 1")


def test_flight_sql_commands_raw(server: tuple[EdgeServer, int]) -> None:
    """The Flight SQL messages on the wire, without a driver in between."""
    edge, _ = server
    c = flight.FlightClient(edge.url.replace("http://", "grpc+tcp://"))
    opts = flight.FlightCallOptions(headers=[(b"database", DB.encode())])

    def fetch(name: str, **fields: Any) -> pa.Table:
        desc = flight.FlightDescriptor.for_command(sqlproto.pack(name, **fields))
        info = c.get_flight_info(desc, opts)
        got = c.do_get(info.endpoints[0].ticket, opts).read_all()
        assert got.schema.equals(info.schema)
        return got

    assert fetch("CommandGetCatalogs").to_pylist() == [{"catalog_name": "public"}]
    schemas = fetch("CommandGetDbSchemas", db_schema_filter_pattern="i%")
    assert schemas.column("db_schema_name").to_pylist() == ["information_schema", "iox"]
    tables = fetch("CommandGetTables", table_name_filter_pattern="c_u", include_schema=True)
    assert tables.column("table_name").to_pylist() == ["cpu"]
    cpu_schema = pa.ipc.read_schema(pa.py_buffer(tables.column("table_schema")[0].as_py()))
    assert "usage" in cpu_schema.names
    only_base = fetch("CommandGetTables", table_types=["BASE TABLE"])
    assert only_base.column("table_name").to_pylist() == ["big", "cpu", "mem"]
    info = fetch("CommandGetSqlInfo", info=[0, 4])
    assert info.to_pylist() == [
        {"info_name": 0, "value": "Edge"},
        {"info_name": 4, "value": True},
    ]
    got = fetch("CommandStatementQuery", query="SELECT count(*) AS c FROM cpu")
    assert got.to_pylist() == [{"c": 3}]
    # prepared statement: create, bind by DoPut, run, close
    result = next(
        iter(
            c.do_action(
                flight.Action(
                    "CreatePreparedStatement",
                    sqlproto.pack(
                        "ActionCreatePreparedStatementRequest",
                        query="SELECT usage FROM cpu WHERE host = $host",
                    ),
                ),
                opts,
            )
        )
    )
    _, created = sqlproto.unpack(result.body.to_pybytes())  # type: ignore[misc]
    dataset = pa.ipc.read_schema(pa.py_buffer(created.dataset_schema))
    assert dataset.names == ["usage"]
    handle = created.prepared_statement_handle
    desc = flight.FlightDescriptor.for_command(
        sqlproto.pack("CommandPreparedStatementQuery", prepared_statement_handle=handle)
    )
    writer, meta = c.do_put(desc, pa.schema([("host", pa.string())]), opts)
    writer.write_table(pa.table({"host": ["c"]}))
    writer.done_writing()
    assert meta.read() is not None
    writer.close()
    info2 = c.get_flight_info(desc, opts)
    assert c.do_get(info2.endpoints[0].ticket, opts).read_all().to_pylist() == [{"usage": 0.5}]
    close = sqlproto.pack("ActionClosePreparedStatementRequest", prepared_statement_handle=handle)
    list(c.do_action(flight.Action("ClosePreparedStatement", close), opts))
    with pytest.raises(pa.ArrowKeyError, match="unknown prepared statement handle"):
        c.get_flight_info(desc, opts)
    with pytest.raises(pa.ArrowInvalid, match="missing database"):
        c.get_flight_info(flight.FlightDescriptor.for_command(sqlproto.pack("CommandGetCatalogs")))
    c.close()


def test_http_keeps_working_beside_grpc(server: tuple[EdgeServer, int]) -> None:
    """Keep-alive HTTP and a large body on the shared port, gRPC in between."""
    edge, _ = server
    with httpx.Client(base_url=edge.url, timeout=60) as http:
        for _ in range(3):
            assert http.get("/ping").status_code == 204
        body = "\n".join(f"side,k=v x={i} {i}" for i in range(50_000))
        r = http.post("/api/v3/write_lp", params={"db": DB}, content=body)
        assert r.status_code == 204, r.text
        c = flight.FlightClient(edge.url.replace("http://", "grpc+tcp://"))
        ticket = json.dumps({"database": DB, "sql_query": "SELECT count(*) AS c FROM side"})
        assert c.do_get(flight.Ticket(ticket.encode())).read_all().to_pylist() == [{"c": 50_000}]
        c.close()
        assert http.get("/ping").status_code == 204


# --- authentication -------------------------------------------------------------------------
ADMIN = new_token()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    with run_secured(tmp_path_factory.mktemp("flight-auth") / "data", ADMIN) as edge:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        for db in ("mine", "theirs"):
            r = httpx.post(
                f"{edge.url}/api/v3/write_lp", params={"db": db}, content="m v=1 1", headers=admin
            )
            assert r.status_code == 204, r.text
        yield edge


def _grpc(edge: EdgeServer) -> flight.FlightClient:
    return flight.FlightClient(edge.url.replace("http://", "grpc+tcp://"))


def _every_rpc(c: flight.FlightClient, opts: flight.FlightCallOptions) -> dict[str, Any]:
    ticket = json.dumps({"database": "mine", "sql_query": "SELECT 1"}).encode()
    desc = flight.FlightDescriptor.for_command(sqlproto.pack("CommandGetCatalogs"))
    prepare = flight.Action(
        "CreatePreparedStatement",
        sqlproto.pack("ActionCreatePreparedStatementRequest", query="SELECT 1"),
    )

    def put() -> None:
        writer, _ = c.do_put(desc, pa.schema([("a", pa.int64())]), opts)
        writer.write_table(pa.table({"a": [1]}))
        writer.close()

    def exchange() -> None:
        writer, _ = c.do_exchange(desc, opts)
        writer.close()

    return {
        "DoGet": lambda: c.do_get(flight.Ticket(ticket), opts).read_all(),
        "GetFlightInfo": lambda: c.get_flight_info(desc, opts),
        "GetSchema": lambda: c.get_schema(desc, opts),
        "DoAction": lambda: list(c.do_action(prepare, opts)),
        "ListActions": lambda: c.list_actions(opts),
        "ListFlights": lambda: list(c.list_flights(b"", opts)),
        "DoPut": put,
        "DoExchange": exchange,
    }


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "Bearer", "Basic !!!", "Digest abc"],
    ids=["none", "wrong", "empty bearer", "bad basic", "unknown scheme"],
)
def test_every_rpc_refuses_without_a_valid_token(
    secured: EdgeServer, authorization: str | None
) -> None:
    headers = [(b"authorization", authorization.encode())] if authorization else []
    headers.append((b"database", b"mine"))
    c = _grpc(secured)
    for name, call in _every_rpc(c, flight.FlightCallOptions(headers=headers)).items():
        refused = _refusal(call)
        if authorization in (None, "Bearer wrong"):
            assert "not authenticated" in str(refused), name
        if name == "GetSchema":
            # pyarrow's server answers every GetSchema error as UNKNOWN (its _get_schema does
            # not map Flight errors); the call is refused all the same
            assert isinstance(refused, pa.ArrowException), name
        elif authorization in (None, "Bearer wrong"):
            assert isinstance(refused, flight.FlightUnauthenticatedError), name
        else:  # malformed credentials: INVALID_ARGUMENT, as HTTP answers 400
            assert isinstance(refused, pa.ArrowInvalid | flight.FlightUnauthenticatedError), name
            assert "Authorization" in str(refused) or "authenticated" in str(refused), name
    c.close()


def test_tokens_and_permissions(secured: EdgeServer) -> None:
    c3 = InfluxDBClient3(host=secured.url, token=ADMIN, database="mine")
    assert c3.query("SELECT v FROM m").to_pylist() == [{"v": 1.0}]
    c3.close()
    with httpx.Client(base_url=secured.url, headers={"Authorization": f"Bearer {ADMIN}"}) as h:
        r = h.post(
            "/api/v3/configure/token",
            json={"name": "reader", "permissions": ["db:mine:read"]},
        )
        assert r.status_code == 201, r.text
        reader = r.json()["token"]
    mine = InfluxDBClient3(host=secured.url, token=reader, database="mine")
    assert mine.query("SELECT v FROM m").to_pylist() == [{"v": 1.0}]
    theirs = InfluxDBClient3(host=secured.url, token=reader, database="theirs")
    with pytest.raises(Exception, match="may not read database 'theirs'"):
        theirs.query("SELECT v FROM m")
    mine.close()
    theirs.close()
    c = _grpc(secured)
    opts = flight.FlightCallOptions(
        headers=[(b"authorization", f"Bearer {reader}".encode()), (b"database", b"theirs")]
    )
    desc = flight.FlightDescriptor.for_command(
        sqlproto.pack("CommandStatementQuery", query="SELECT 1")
    )
    with pytest.raises(flight.FlightUnauthorizedError, match="may not read database 'theirs'"):
        c.get_flight_info(desc, opts)
    with pytest.raises(flight.FlightUnauthorizedError):
        c.get_flight_info(
            flight.FlightDescriptor.for_command(sqlproto.pack("CommandGetTables")), opts
        )
    c.close()


def test_basic_handshake_gives_a_bearer_token(secured: EdgeServer) -> None:
    c = _grpc(secured)
    with pytest.raises(flight.FlightUnauthenticatedError):
        c.authenticate_basic_token(b"anyone", b"not-the-token")
    name, value = c.authenticate_basic_token(b"anyone", ADMIN.encode())
    assert name == b"authorization" and value == f"Bearer {ADMIN}".encode()
    opts = flight.FlightCallOptions(headers=[(name, value)])
    ticket = json.dumps({"database": "mine", "sql_query": "SELECT v FROM m"}).encode()
    assert c.do_get(flight.Ticket(ticket), opts).read_all().to_pylist() == [{"v": 1.0}]
    c.close()


def test_adbc_with_token(secured: EdgeServer) -> None:
    url = secured.url.replace("http://", "grpc://")
    conn = flightsql.connect(
        url,
        db_kwargs={
            DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {ADMIN}",
            "adbc.flight.sql.rpc.call_header.database": "mine",
        },
        autocommit=True,
    )
    with conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM m")
        assert cur.fetchall() == [(1.0,)]
    with (
        _adbc(url, database="mine") as bad,
        bad.cursor() as cur,
        pytest.raises(Exception, match="UNAUTHENTICATED"),
    ):
        cur.execute("SELECT v FROM m")


def test_readme_examples_run(server: tuple[EdgeServer, int]) -> None:
    """The README's two Flight examples, run against this server as a user would paste them."""
    edge, _ = server
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Arrow Flight and Flight SQL", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    port = edge.url.rsplit(":", 1)[1]
    for code in blocks:
        code = code.replace(":8181", f":{port}").replace("…", "unused").replace("mydb", "readme")
        scope: dict[str, Any] = {}
        exec(compile(code, "README.md", "exec"), scope)
        if "client" in scope:
            assert scope["table"].column("usage").to_pylist() == [1.5]
            assert list(scope["frame"]["mean"]) == [1.5]
            scope["client"].close()
        else:
            assert scope["rows"].to_pylist() == [{"host": "a", "usage": 1.5}]
            scope["conn"].close()
