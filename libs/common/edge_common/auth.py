"""Tokens: how they are made, hashed, presented and what they may do.

Only SHA-512 hashes of tokens are ever stored or compared (in constant time); the raw token
is shown once, when it is created, and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from edge_common.errors import BadRequest

__all__ = [
    "Permission",
    "TokenRecord",
    "hash_token",
    "hashes_equal",
    "new_token",
    "parse_permission",
    "presented_token",
]

Action = Literal["read", "write"]
_HASH = re.compile(r"[0-9a-f]{128}")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")


def new_token() -> str:
    """``apiv3_`` and URL-safe base64 of 64 random bytes."""
    return "apiv3_" + base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha512(token.encode()).hexdigest()


def hashes_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def check_hash(value: str) -> str:
    value = value.strip().lower()
    if not _HASH.fullmatch(value):
        raise BadRequest("a bearer token hash is 128 hexadecimal characters (SHA-512)")
    return value


@dataclass(frozen=True)
class Permission:
    """``db`` is a database name or ``*``; ``actions`` a subset of read and write."""

    db: str
    actions: frozenset[str]

    def allows(self, action: Action, db: str | None) -> bool:
        return action in self.actions and (self.db == "*" or self.db == db)

    def __str__(self) -> str:
        return f"db:{self.db}:{','.join(sorted(self.actions))}"


def parse_permission(text: str) -> Permission:
    """``db:<name or *>:<read|write|read,write>``."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != "db" or not parts[1]:
        raise BadRequest(f"invalid permission {text!r}: use db:<database or *>:<read|write>")
    actions = frozenset(a.strip() for a in parts[2].split(","))
    if not actions or not actions <= {"read", "write"}:
        raise BadRequest(f"invalid permission {text!r}: actions are read and write")
    return Permission(parts[1], actions)


@dataclass
class TokenRecord:
    """A named token as the catalog keeps it: never the token itself."""

    name: str
    hash: str
    permissions: list[Permission] = field(default_factory=list)
    created_ns: int = 0
    expires_ns: int | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise BadRequest(
                f"invalid token name {self.name!r}: 1-64 letters, digits, '_', '.', '-'"
            )

    def allows(self, action: Action, db: str | None) -> bool:
        return any(p.allows(action, db) for p in self.permissions)

    def sees(self, db: str) -> bool:
        return any(p.db in ("*", db) for p in self.permissions)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hash": self.hash,
            "permissions": [str(p) for p in self.permissions],
            "created_ns": self.created_ns,
            "expires_ns": self.expires_ns,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenRecord:
        return cls(
            data["name"],
            data["hash"],
            [parse_permission(p) for p in data["permissions"]],
            int(data.get("created_ns", 0)),
            data.get("expires_ns"),
        )


def presented_token(authorization: str | None, query_password: str | None) -> str | None:
    """The token a request carries: ``Bearer``, ``Token`` or ``Basic`` (the password part) in
    the Authorization header, else the 1.x ``p`` parameter. Malformed headers raise."""
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if not value:
            raise BadRequest("malformed Authorization header: expected '<scheme> <credentials>'")
        kind = scheme.lower()
        if kind in ("bearer", "token"):
            return value
        if kind == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise BadRequest(
                    "malformed Authorization header: Basic credentials are not base64 of user:token"
                ) from None
            _, sep, password = decoded.partition(":")
            if not sep:
                raise BadRequest(
                    "malformed Authorization header: Basic credentials need user:token"
                )
            return password
        raise BadRequest(f"unsupported Authorization scheme {scheme!r}: use Bearer, Token or Basic")
    return query_password or None
