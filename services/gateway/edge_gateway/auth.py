"""Authentication for every route, in one place, and authorization helpers for routes.

The app runs :func:`authenticate` before every route (an app-wide dependency, so routes
added later are covered too). Without ``--bearer-token`` the server is open. With it, a
request must carry the admin token or a named token (``Authorization: Bearer|Token|Basic``,
or ``?p=`` on the 1.x routes); routes then call :func:`authorize` for their database.
Clients that keep failing are told to wait (429) before their guesses are even looked at.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import Request

from edge_common.auth import TokenRecord, hash_token, hashes_equal, presented_token
from edge_common.errors import Forbidden, TooManyRequests, Unauthenticated
from edge_common.settings import Settings
from edge_gateway.pool import WorkerPool

__all__ = ["Principal", "TokenCache", "authenticate", "authorize", "principal"]

_EXEMPT_PATHS = {"health": "/health", "ping": "/ping", "metrics": "/metrics"}
_V1_PATHS = {"/query", "/write"}
_REFRESH_S = 1.0


@dataclass(frozen=True)
class Principal:
    admin: bool
    token: TokenRecord | None = None

    def allows(self, action: str, db: str | None) -> bool:
        if self.admin:
            return True
        assert self.token is not None
        return self.token.allows(action, db)  # type: ignore[arg-type]

    def databases(self, action: str) -> list[str] | None:
        """Databases this principal may ``action`` (None: every one)."""
        if self.admin or self.token is None:
            return None
        return sorted({perm.db for perm in self.token.permissions if action in perm.actions})

    def sees(self, db: str) -> bool:
        return self.admin or (self.token is not None and self.token.sees(db))


_OPEN = Principal(admin=True)


@dataclass
class TokenCache:
    """Named tokens as the catalog holds them, refreshed from the persister."""

    persister: WorkerPool
    records: list[TokenRecord] = field(default_factory=list)
    fetched_at: float = float("-inf")

    async def refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.fetched_at < _REFRESH_S:
            return
        reply, _ = await self.persister.request({"op": "tokens"})
        self.records = [TokenRecord.from_json(t) for t in reply["tokens"]]
        self.fetched_at = time.monotonic()

    def find(self, digest: str) -> TokenRecord | None:
        found = None
        for record in self.records:  # every comparison runs, in constant time
            if hashes_equal(record.hash, digest):
                found = record
        return found


@dataclass
class FailureLimiter:
    max_failures: int
    window_s: float
    failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, client: str, now: float) -> deque[float]:
        q = self.failures.setdefault(client, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def check(self, client: str) -> None:
        now = time.monotonic()
        q = self._recent(client, now)
        if len(q) >= self.max_failures:
            wait = int(self.window_s - (now - q[0])) + 1
            raise TooManyRequests(
                f"too many failed authentication attempts from this client; retry in {wait} s",
                wait,
            )
        if not q:
            self.failures.pop(client, None)

    def fail(self, client: str) -> None:
        now = time.monotonic()
        self._recent(client, now).append(now)
        if len(self.failures) > 100_000:  # bounded memory under a spray of addresses
            self.failures.clear()


@dataclass
class Authenticator:
    settings: Settings
    tokens: TokenCache
    limiter: FailureLimiter

    async def principal_for(self, request: Request) -> Principal:
        s = self.settings
        if s.bearer_token is None:
            return _OPEN
        path = request.url.path
        if any(path == _EXEMPT_PATHS[e] for e in s.exempt_endpoints):
            return _OPEN
        client = request.client.host if request.client else "unknown"
        self.limiter.check(client)
        password = request.query_params.get("p") if path in _V1_PATHS else None
        if password is None and path == "/query" and request.method == "POST":
            password = await _form_password(request)
        return await self.check(client, request.headers.get("authorization"), password)

    async def check(
        self, client: str, authorization: str | None, password: str | None = None
    ) -> Principal:
        """Who presents these credentials (an ``Authorization`` value or a 1.x password);
        raises Unauthenticated, or TooManyRequests for a client that keeps failing."""
        s = self.settings
        if s.bearer_token is None:
            return _OPEN
        self.limiter.check(client)
        try:
            raw = presented_token(authorization, password)
        except Exception:
            self.limiter.fail(client)
            raise
        if raw is None:
            raise Unauthenticated("the request was not authenticated")
        digest = hash_token(raw)
        if hashes_equal(digest, s.bearer_token):
            return Principal(admin=True)
        await self.tokens.refresh()
        record = self.tokens.find(digest)
        if (
            record is not None
            and record.expires_ns is not None
            and record.expires_ns <= time.time_ns()
        ):
            record = None
        if record is None:
            self.limiter.fail(client)
            raise Unauthenticated("the request was not authenticated")
        return Principal(admin=False, token=record)


async def _form_password(request: Request) -> str | None:
    """1.x clients may send ``p`` in a form body of POST /query."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    from urllib.parse import parse_qs

    values = parse_qs((await request.body()).decode(errors="replace"))
    return values.get("p", [None])[-1]


async def authenticate(request: Request) -> None:
    """App-wide dependency: decide who is asking, or refuse."""
    auth: Authenticator = request.app.state.gateway.auth
    request.state.principal = await auth.principal_for(request)


def principal(request: Request) -> Principal:
    p: Principal = request.state.principal
    return p


def authorize(request: Request, action: str, db: str | None) -> None:
    """Refuse unless the request's token may ``action`` (read or write) database ``db``."""
    if not principal(request).allows(action, db):
        raise Forbidden(
            f"this token may not {action} database {db!r}" if db else "this token may not do that"
        )


def require_admin(request: Request) -> None:
    if not principal(request).admin:
        raise Forbidden("only the admin token may do this")
