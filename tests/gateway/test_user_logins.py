"""The gateway's check of a 1.x user's password: one scrypt per password and hash, also
for requests that arrive together, and again once the password changes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from edge_common.users import UserRecord, hash_password
from edge_gateway.auth import TokenCache


def _counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords each scrypt check is run for, from now on."""
    checks: list[str] = []
    real = UserRecord.password_is

    def counted(self: UserRecord, password: str) -> bool:
        checks.append(password)
        return real(self, password)

    monkeypatch.setattr(UserRecord, "password_is", counted)
    return checks


def test_requests_arriving_together_share_one_check(monkeypatch: pytest.MonkeyPatch) -> None:
    bob = UserRecord("bob", hash_password("pw"))
    checks = _counted_checks(monkeypatch)
    cache = TokenCache(persister=None)  # type: ignore[arg-type]
    cache.users = {"bob": bob}

    async def logins() -> list[Any]:
        right = [cache.user("bob", "pw") for _ in range(20)]
        wrong = [cache.user("bob", "nope") for _ in range(5)]
        return await asyncio.gather(*right, *wrong, cache.user("nobody", "pw"))

    found = asyncio.run(logins())
    assert found == [bob] * 20 + [None] * 5 + [None]
    assert sorted(checks) == ["nope", "pw"]  # one scrypt each
    assert asyncio.run(cache.user("bob", "pw")) is bob and len(checks) == 2  # remembered
    assert cache.checking == {}
    # a new password (SET PASSWORD): the old one is checked again, against the new hash
    cache.users = {"bob": UserRecord("bob", hash_password("new"))}
    assert asyncio.run(cache.user("bob", "pw")) is None
    assert asyncio.run(cache.user("bob", "new")) is not None
    assert len(checks) == 4
