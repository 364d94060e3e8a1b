"""CLI flags generated from the settings model, so that flags, environment variables and
the settings reference can never disagree."""

from __future__ import annotations

import argparse
import typing
from typing import Any

from edge_common.settings import Settings

__all__ = ["add_settings_flags", "settings_from_args"]


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for name, field in Settings.model_fields.items():
        env = ", ".join(Settings.env_names(name))
        kwargs: dict[str, Any] = {
            "dest": name,
            "default": None,
            "help": f"{field.description} [default: {field.default}] [env: {env}]",
        }
        if typing.get_origin(field.annotation) is typing.Literal:
            kwargs["choices"] = list(typing.get_args(field.annotation))
        if field.annotation is bool:  # a plain switch: present means true
            kwargs["action"] = "store_const"
            kwargs["const"] = True
        parser.add_argument(flag_name(name), **kwargs)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Flags given on the command line win over the environment, which wins over defaults."""
    given = {n: getattr(args, n) for n in Settings.model_fields if getattr(args, n) is not None}
    return Settings(**given)
