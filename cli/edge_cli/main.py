"""Entry point of the ``influxdb3`` command."""

from __future__ import annotations

import argparse
import sys

from edge_cli.client import ClientError, add_client_verbs
from edge_cli.flags import add_settings_flags, settings_from_args
from edge_cli.persist import add_persist_verbs
from edge_cli.tokens import add_token_verbs

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="influxdb3",
        description="Edge: an InfluxDB-compatible time-series database.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="start the server (the whole process group)")
    add_settings_flags(serve)
    serve.set_defaults(func=None)
    add_client_verbs(sub)
    create = sub.add_parser("create", help="create a token").add_subparsers(
        dest="what", required=True, metavar="WHAT"
    )
    show = sub.add_parser("show", help="list tokens").add_subparsers(
        dest="what", required=True, metavar="WHAT"
    )
    delete = sub.add_parser("delete", help="delete a token").add_subparsers(
        dest="what", required=True, metavar="WHAT"
    )
    add_token_verbs(create, show, delete)
    add_persist_verbs(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from pydantic import ValidationError

        from edge_cli.serve import serve

        try:
            settings = settings_from_args(args)
        except ValidationError as err:
            print(f"error: invalid setting: {err}", file=sys.stderr)
            return 2
        return serve(settings)
    try:
        code: int = args.func(args)
        return code
    except ClientError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
