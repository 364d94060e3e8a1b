"""The client verbs ``write`` and ``query``: HTTP calls to a running server."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx

__all__ = ["ClientError", "add_client_verbs", "add_connection_flags", "send"]


class ClientError(Exception):
    """Something to tell the user in one line, without a traceback."""


def add_connection_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        default=os.environ.get("INFLUXDB3_HOST_URL", "http://127.0.0.1:8181"),
        help="URL of the server [env: INFLUXDB3_HOST_URL]",
    )
    p.add_argument(
        "--token",
        default=os.environ.get("INFLUXDB3_AUTH_TOKEN"),
        help="authentication token [env: INFLUXDB3_AUTH_TOKEN]",
    )


def _common(p: argparse.ArgumentParser) -> None:
    add_connection_flags(p)
    p.add_argument("-d", "--database", required=True, help="the database to use")


def send(args: argparse.Namespace, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = kw.pop("headers", {})
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    url = args.host.rstrip("/") + path
    try:
        resp = httpx.request(method, url, headers=headers, timeout=300, **kw)
    except httpx.ConnectError:
        raise ClientError(f"could not connect to {args.host}: is the server running?") from None
    except httpx.HTTPError as err:
        raise ClientError(f"request to {args.host} failed: {err}") from None
    if resp.status_code >= 400:
        try:
            body = resp.json()
            detail = body.get("error") or body.get("message") or resp.text
            data = body.get("data")
        except ValueError:
            detail, data = resp.text, None
        msg = f"server answered {resp.status_code}: {detail}"
        if isinstance(data, list):
            msg += "".join(
                f"\n  line {d['line_number']}: {d['error_message']}: {d['original_line']}"
                for d in data
            )
        raise ClientError(msg)
    return resp


def cmd_write(args: argparse.Namespace) -> int:
    if args.file:
        with open(args.file, "rb") as f:
            body = f.read()
    elif args.line_protocol:
        body = "\n".join(args.line_protocol).encode()
    else:
        body = sys.stdin.buffer.read()
    params = {"db": args.database, "precision": args.precision}
    if args.no_sync:
        params["no_sync"] = "true"
    send(args, "POST", "/api/v3/write_lp", params=params, content=body)
    print("success: the write was accepted", file=sys.stderr)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    text = " ".join(args.query) if args.query else sys.stdin.read()
    if args.file:
        with open(args.file) as f:
            text = f.read()
    if not text.strip():
        raise ClientError("no query given")
    path = "/api/v3/query_sql" if args.language == "sql" else "/api/v3/query_influxql"
    resp = send(args, "POST", path, json={"db": args.database, "q": text, "format": args.format})
    if args.output:
        with open(args.output, "wb") as f:
            f.write(resp.content)
    else:
        sys.stdout.buffer.write(resp.content)
        sys.stdout.flush()
    return 0


def add_client_verbs(sub: Any) -> None:
    w = sub.add_parser("write", help="write line protocol to a database")
    _common(w)
    w.add_argument("-f", "--file", help="read line protocol from this file")
    w.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "ns", "us", "ms", "s"],
        help="timestamp precision",
    )
    w.add_argument("--no-sync", action="store_true", help="answer before the WAL is synced")
    w.add_argument("line_protocol", nargs="*", help="line protocol (else -f or stdin)")
    w.set_defaults(func=cmd_write)
    q = sub.add_parser("query", help="run a query and print its result")
    _common(q)
    q.add_argument("-l", "--language", default="sql", choices=["sql", "influxql"])
    q.add_argument(
        "--format", default="pretty", choices=["pretty", "json", "jsonl", "csv", "parquet"]
    )
    q.add_argument("-o", "--output", help="write the result to this file")
    q.add_argument("-f", "--file", help="read the query from this file")
    q.add_argument("query", nargs="*", help="the query text (else -f or stdin)")
    q.set_defaults(func=cmd_query)
