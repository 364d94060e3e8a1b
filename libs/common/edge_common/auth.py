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
from typing import Any, Literal, NamedTuple

from edge_common.errors import BadRequest

__all__ = [
    "Credentials",
    "Permission",
    "TokenRecord",
    "hash_token",
    "hashes_equal",
    "new_token",
    "parse_permission",
    "presented_credentials",
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


class Credentials(NamedTuple):
    """What a request presents: a token, and a 1.x user's name and password if it names
    one (``token`` is then the password, or all of ``Token user:password``: a client that
    sends its token as the password, as Edge has told 1.x clients to, still works)."""

    token: str
    user: str | None = None
    password: str | None = None


def presented_credentials(
    authorization: str | None, query_user: str | None, query_password: str | None
) -> Credentials | None:
    """The credentials a request carries: ``Bearer``, ``Token`` (a token, or InfluxDB 1.8's
    ``user:password``) or ``Basic`` (``user:password``) in the Authorization header, else the
    1.x ``u`` and ``p`` parameters. Malformed headers raise."""
    if authorization is None:
        if not query_password:
            return None
        return Credentials(query_password, query_user or None, query_password)
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if not value:
        raise BadRequest("malformed Authorization header: expected '<scheme> <credentials>'")
    kind = scheme.lower()
    if kind == "bearer":
        return Credentials(value)
    if kind == "token":
        user, sep, password = value.partition(":")
        return Credentials(value, user, password) if sep else Credentials(value)
    if kind == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(
                "malformed Authorization header: Basic credentials are not base64 of user:token"
            ) from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise BadRequest("malformed Authorization header: Basic credentials need user:token")
        return Credentials(password, user or None, password)
    raise BadRequest(f"unsupported Authorization scheme {scheme!r}: use Bearer, Token or Basic")
