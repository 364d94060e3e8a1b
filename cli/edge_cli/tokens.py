"""``influxdb3 create token``, ``show tokens``, ``delete token``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from edge_cli.client import ClientError, add_connection_flags, send
from edge_common.auth import hash_token, new_token

__all__ = ["add_token_verbs"]


def _print_admin_token() -> int:
    token = new_token()
    digest = hash_token(token)
    print(f"""Token: {token}
Hashed Token: {digest}

Start the server with the hashed token:
  influxdb3 serve --bearer-token {digest}
  (or set INFLUXDB3_BEARER_TOKEN={digest})

Send the token with every request:
  Authorization: Bearer {token}
  (influxdb3 clients: --token {token}, or set INFLUXDB3_AUTH_TOKEN)

The token is shown only this once; the server keeps only its hash.""")
    return 0


def cmd_create_token(args: argparse.Namespace) -> int:
    if not args.name:
        if args.permission or args.expiry:
            raise ClientError("--permission and --expiry need --name (a named token)")
        return _print_admin_token()
    if not args.permission:
        raise ClientError("a named token needs at least one --permission, e.g. db:mydb:read")
    body: dict[str, Any] = {"name": args.name, "permissions": args.permission}
    if args.expiry:
        body["expiry_secs"] = _seconds(args.expiry)
    doc = send(args, "POST", "/api/v3/configure/token", json=body).json()
    print(f"Token: {doc['token']}")
    print(f"Name: {doc['name']}")
    print(f"Permissions: {', '.join(doc['permissions'])}")
    if doc.get("expires_ns"):
        print(f"Expires (ns since epoch): {doc['expires_ns']}")
    print("The token is shown only this once; the server keeps only its hash.")
    return 0


def _seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text[-1] in units:
            return int(text[:-1]) * units[text[-1]]
        return int(text)
    except (ValueError, IndexError):
        raise ClientError(f"invalid expiry {text!r}: use e.g. 3600, 90m, 12h, 30d") from None


def cmd_show_tokens(args: argparse.Namespace) -> int:
    docs = send(args, "GET", "/api/v3/configure/token").json()
    if args.format == "json":
        print(json.dumps(docs, indent=2))
        return 0
    for d in docs:
        expires = d["expires_ns"] or "never"
        print(f"{d['name']}\t{', '.join(d['permissions'])}\texpires: {expires}")
    return 0


def cmd_delete_token(args: argparse.Namespace) -> int:
    send(args, "DELETE", "/api/v3/configure/token", params={"name": args.name})
    print(f"deleted token {args.name!r}")
    return 0


def add_token_verbs(create: Any, show: Any, delete: Any) -> None:
    c = create.add_parser(
        "token",
        help="make a token: the admin token to start the server "
        "with, or (with --name) a named token on the server",
    )
    add_connection_flags(c)
    c.add_argument("--name", help="name of a named token (needs --host and the admin --token)")
    c.add_argument(
        "--permission",
        action="append",
        default=[],
        help="db:<database or *>:<read|write|read,write>; repeat for more",
    )
    c.add_argument("--expiry", help="lifetime of a named token, e.g. 3600, 90m, 12h, 30d")
    c.set_defaults(func=cmd_create_token)
    s = show.add_parser("tokens", help="list named tokens (admin token needed)")
    add_connection_flags(s)
    s.add_argument("--format", default="pretty", choices=["pretty", "json"])
    s.set_defaults(func=cmd_show_tokens)
    d = delete.add_parser("token", help="delete a named token (admin token needed)")
    add_connection_flags(d)
    d.add_argument("--name", required=True)
    d.set_defaults(func=cmd_delete_token)
