"""1.x users: a name, a password (only its scrypt hash is kept), admin or not, and a
privilege per database, as influxd 1.x keeps them (``CREATE USER``, ``GRANT``, …).

A user is another way to present the rights a named token has: ``READ`` on a database is
``db:<name>:read``, ``WRITE`` is ``db:<name>:write``, ``ALL PRIVILEGES`` both. An admin user
may do what the admin token may. Clients send ``u``/``p``, Basic ``user:password`` or
``Token user:password`` (InfluxDB 1.8's 2.x-compatible form).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from edge_common.auth import Permission

__all__ = ["PRIVILEGES", "UserRecord", "after_revoke", "hash_password"]

# privilege → the actions it allows; influxd's names, as SHOW GRANTS writes them
PRIVILEGES: dict[str, frozenset[str]] = {
    "NO PRIVILEGES": frozenset(),
    "READ": frozenset(("read",)),
    "WRITE": frozenset(("write",)),
    "ALL PRIVILEGES": frozenset(("read", "write")),
}
_BY_ACTIONS = {actions: name for name, actions in PRIVILEGES.items()}
# scrypt's cost: 16 MiB and ~0.1 s a hash on this project's 2-core machine (bcrypt's cost
# 10 in influxd is of that order). The parameters are kept with each hash, so a later
# change leaves older passwords readable.
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 << 20, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def after_revoke(held: str | None, privilege: str) -> str:
    """What is left of ``held`` once ``privilege`` is taken away (ALL less READ: WRITE;
    influxd keeps the database listed, as NO PRIVILEGES, once nothing is left)."""
    left = PRIVILEGES[held or "NO PRIVILEGES"] - PRIVILEGES[privilege]
    return _BY_ACTIONS[left]


@dataclass
class UserRecord:
    name: str
    password_hash: str
    admin: bool = False
    privileges: dict[str, str] = field(default_factory=dict)  # database → PRIVILEGES key

    def password_is(self, password: str) -> bool:
        """Whether ``password`` is this user's (False for a hash this code cannot read)."""
        parts = self.password_hash.split("$")
        if len(parts) != 6 or parts[0] != "scrypt":
            return False
        try:
            n, r, p = (int(x) for x in parts[1:4])
            salt, digest = base64.b64decode(parts[4]), base64.b64decode(parts[5])
            found = _scrypt(password, salt, n, r, p)
        except ValueError:  # (binascii.Error is one; so is scrypt's refusal of bad costs)
            return False
        return hmac.compare_digest(found, digest)

    def permissions(self) -> list[Permission]:
        if self.admin:
            return [Permission("*", frozenset(("read", "write")))]
        held = self.privileges.items()
        return [Permission(db, PRIVILEGES[p]) for db, p in held if p != "NO PRIVILEGES"]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "password_hash": self.password_hash,
            "admin": self.admin,
            "privileges": dict(self.privileges),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserRecord:
        return cls(
            str(data["name"]),
            str(data["password_hash"]),
            bool(data.get("admin", False)),
            {str(k): str(v) for k, v in data.get("privileges", {}).items()},
        )
