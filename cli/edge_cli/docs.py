"""Generate the CLI and settings references (``docs/cli.md``, ``docs/settings.md``) from
the code; a test fails when the committed files drift from what this prints.

``python -m edge_cli.docs`` rewrites both files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_cli.flags import flag_name
from edge_cli.main import build_parser
from edge_common.settings import Settings

__all__ = ["cli_reference", "settings_reference"]

DOCS = Path(__file__).resolve().parents[2] / "docs"


def cli_reference() -> str:
    parser = build_parser()
    out = [
        "# `influxdb3` command reference",
        "",
        "Generated from the code by `python -m edge_cli.docs`; do not edit by hand.",
        "",
        "```",
        _help(parser),
        "```",
        "",
    ]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += [f"## `influxdb3 {name}`", "", "```", _help(sub), "```", ""]
    return "\n".join(out)


def _help(parser: argparse.ArgumentParser) -> str:
    import os

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help().rstrip()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def settings_reference() -> str:
    out = [
        "# Settings reference",
        "",
        "Generated from `edge_common.settings.Settings` by `python -m edge_cli.docs`; do not "
        "edit by hand. Every setting is a flag of `influxdb3 serve` and an environment "
        "variable; a flag wins over the environment.",
        "",
        "| flag | environment | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        env = ", ".join(f"`{e}`" for e in Settings.env_names(name))
        out.append(f"| `{flag_name(name)}` | {env} | `{field.default}` | {field.description} |")
    return "\n".join(out) + "\n"


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    (DOCS / "cli.md").write_text(cli_reference())
    (DOCS / "settings.md").write_text(settings_reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
