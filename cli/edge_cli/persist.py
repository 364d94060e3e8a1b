"""``influxdb3 flush`` and ``influxdb3 subscribe``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import zmq

from edge_cli.client import ClientError, add_connection_flags, send
from edge_common.persist import PersistEvent

__all__ = ["add_persist_verbs"]


def cmd_flush(args: argparse.Namespace) -> int:
    doc = send(args, "POST", "/api/v3/flush").json()
    if doc["snapshot_seq"] is None:
        print("nothing was buffered")
    else:
        print(
            f"snapshot {doc['snapshot_seq']}: {doc['files']} file(s), {doc['rows']} row(s), "
            f"{doc['bytes']} bytes persisted"
        )
    return 0


def cmd_subscribe(args: argparse.Namespace) -> int:
    """Print persist events as JSON lines until interrupted (or --count events)."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(args.endpoint)
    except zmq.ZMQError as err:
        raise ClientError(f"cannot connect to {args.endpoint}: {err}") from None
    sock.setsockopt(zmq.SUBSCRIBE, (args.database or "").encode())
    seen = 0
    try:
        while args.count is None or seen < args.count:
            frames = sock.recv_multipart()
            PersistEvent.decode(frames)  # refuse what is not a persist event
            sys.stdout.write(frames[1].decode() + "\n")
            sys.stdout.flush()
            seen += 1
    finally:
        sock.close(0)
        ctx.term()
    return 0


def add_persist_verbs(sub: Any) -> None:
    f = sub.add_parser("flush", help="persist everything buffered to Parquet now")
    add_connection_flags(f)
    f.set_defaults(func=cmd_flush)
    s = sub.add_parser("subscribe", help="print persist events (one JSON line per file)")
    s.add_argument(
        "--endpoint",
        required=True,
        help="the persist-events endpoint (see /health or --persist-events-bind)",
    )
    s.add_argument("--database", help="only events of this database")
    s.add_argument("--count", type=int, help="stop after this many events")
    s.set_defaults(func=cmd_subscribe)
