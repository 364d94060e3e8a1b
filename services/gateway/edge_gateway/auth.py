"""Authentication for every route, in one place, and authorization helpers for routes.

The app runs :func:`authenticate` before every route (an app-wide dependency, so routes
added later are covered too). Without ``--bearer-token`` the server is open. With it, a
request must carry the admin token, a named token (``Authorization: Bearer|Token|Basic``,
or ``?p=`` on the 1.x routes) or a 1.x user's name and password (``u``/``p``, Basic,
``Token user:password``); routes then call :func:`authorize` for their database. Clients
that keep failing are told to wait (429) before their guesses are even looked at.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import Request

from edge_common.auth import (
    Credentials,
    Permission,
    TokenRecord,
    hash_token,
    hashes_equal,
    new_token,
    presented_credentials,
)
from edge_common.errors import Forbidden, TooManyRequests, Unauthenticated
from edge_common.settings import Settings
from edge_common.users import UserRecord
from edge_gateway.pool import WorkerPool

__all__ = ["Principal", "TokenCache", "authenticate", "authorize", "principal"]

_EXEMPT_PATHS = {"health": "/health", "ping": "/ping", "metrics": "/metrics"}
_V1_PATHS = {"/query", "/write"}
_REFRESH_S = 1.0
_FRESH_S = 0.05  # credentials not found: looked up again if the cache is older than this
_NOT_AUTH = "the request was not authenticated"


@dataclass(frozen=True)
class Principal:
    admin: bool
    token: TokenRecord | None = None
    user: UserRecord | None = None  # a 1.x user (admin or not), instead of a token

    @property
    def permissions(self) -> list[Permission]:
        if self.user is not None:
            return self.user.permissions()
        return [] if self.token is None else self.token.permissions

    def allows(self, action: str, db: str | None) -> bool:
        return self.admin or any(p.allows(action, db) for p in self.permissions)  # type: ignore[arg-type]

    def databases(self, action: str) -> list[str] | None:
        """Databases this principal may ``action`` (None: every one)."""
        if self.admin:
            return None
        return sorted({perm.db for perm in self.permissions if action in perm.actions})

    def sees(self, db: str) -> bool:
        return self.admin or any(p.db in ("*", db) for p in self.permissions)

    @property
    def subject(self) -> str:
        """Who is refused, in an error message."""
        return "this token" if self.user is None else f"user {self.user.name!r}"


_OPEN = Principal(admin=True)


@dataclass
class TokenCache:
    """Named tokens and 1.x users as the catalog holds them, refreshed from the persister;
    and the passwords found right, by user and the password's SHA-512, with the hash they
    were checked against (scrypt takes ~0.1 s: each is checked once, until it changes)."""

    persister: WorkerPool
    records: list[TokenRecord] = field(default_factory=list)
    users: dict[str, UserRecord] = field(default_factory=dict)
    fetched_at: float = float("-inf")
    # (user, SHA-512 of a password) → (the hash it was checked against, whether it matched)
    checked: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)
    # the same, while scrypt runs: requests arriving together wait for one check
    checking: dict[tuple[str, str], tuple[str, asyncio.Future[bool]]] = field(default_factory=dict)

    async def refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.fetched_at < _REFRESH_S:
            return
        reply, _ = await self.persister.request({"op": "tokens"})
        self.records = [TokenRecord.from_json(t) for t in reply["tokens"]]
        users = (UserRecord.from_json(u) for u in reply.get("users", ()))
        self.users = {u.name: u for u in users}
        self.fetched_at = time.monotonic()

    def find(self, digest: str) -> TokenRecord | None:
        found = None
        for record in self.records:  # every comparison runs, in constant time
            if hashes_equal(record.hash, digest):
                found = record
        if (
            found is not None
            and found.expires_ns is not None
            and found.expires_ns <= time.time_ns()
        ):
            return None  # expired
        return found

    async def user(self, name: str, password: str) -> UserRecord | None:
        """The user ``name`` if ``password`` is theirs. scrypt takes ~0.1 s, so it runs off
        the loop, and once per password and hash: the answer is kept until the hash
        changes (SET PASSWORD)."""
        user = self.users.get(name)
        if user is None:
            return None
        key = (name, hashlib.sha512(password.encode()).hexdigest())
        held = self.checked.get(key)
        if held is None or held[0] != user.password_hash:
            # one scrypt for requests that arrive together (a dashboard's panels on its
            # first load: each would have spent ~0.1 s of CPU on the same check)
            running = self.checking.get(key)
            if running is None or running[0] != user.password_hash:
                check = asyncio.ensure_future(asyncio.to_thread(user.password_is, password))
                running = self.checking[key] = (user.password_hash, check)
            try:
                ok = await asyncio.shield(running[1])
            finally:
                if self.checking.get(key) is running and running[1].done():
                    del self.checking[key]
            if len(self.checked) > 10_000:
                self.checked.clear()
            held = self.checked[key] = (running[0], ok)
        return user if held[1] else None


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
    # Flight's Basic handshake answers a bearer token, which clients then send: for a 1.x
    # user, one made for the session (SHA-512 → the user, and the password hash it was
    # made under: a new password ends it). Kept in memory: a restart ends them too.
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)

    def session(self, user: UserRecord) -> str:
        """A new bearer token standing for ``user``."""
        token = new_token()
        if len(self.sessions) > 10_000:
            self.sessions.clear()
        self.sessions[hash_token(token)] = (user.name, user.password_hash)
        return token

    async def principal_for(self, request: Request) -> Principal:
        s = self.settings
        if s.bearer_token is None:
            return _OPEN
        path = request.url.path
        if any(path == _EXEMPT_PATHS[e] for e in s.exempt_endpoints):
            return _OPEN
        client = request.client.host if request.client else "unknown"
        self.limiter.check(client)
        user = password = None
        if path in _V1_PATHS:
            user, password = request.query_params.get("u"), request.query_params.get("p")
        if password is None and path == "/query" and request.method == "POST":
            user, password = await _form_credentials(request)
        return await self.check(client, request.headers.get("authorization"), password, user)

    async def check(
        self,
        client: str,
        authorization: str | None,
        password: str | None = None,
        user: str | None = None,
    ) -> Principal:
        """Who presents these credentials (an ``Authorization`` value, or a 1.x password and
        user); raises Unauthenticated, or TooManyRequests for a client that keeps failing."""
        s = self.settings
        if s.bearer_token is None:
            return _OPEN
        self.limiter.check(client)
        try:
            presented = presented_credentials(authorization, user, password)
        except Exception:
            self.limiter.fail(client)
            raise
        if presented is None:
            raise Unauthenticated(_NOT_AUTH)
        digest = hash_token(presented.token)
        if hashes_equal(digest, s.bearer_token):
            return Principal(admin=True)
        await self.tokens.refresh()
        who = await self._known(presented, digest)
        if who is None and time.monotonic() - self.tokens.fetched_at > _FRESH_S:
            # made (or changed) since the last look? (CREATE USER, SET PASSWORD, a token)
            await self.tokens.refresh(force=True)
            who = await self._known(presented, digest)
        if who is None:
            self.limiter.fail(client)
            user_named = presented.user in self.tokens.users  # (influxd's words for a user)
            raise Unauthenticated("authorization failed" if user_named else _NOT_AUTH)
        return who

    async def _known(self, presented: Credentials, digest: str) -> Principal | None:
        """A 1.x user with their password, else a named token, as the cache knows them. A
        name that is no user's is a 1.x client sending a token as its password."""
        if presented.user is not None and presented.user in self.tokens.users:
            assert presented.password is not None
            user = await self.tokens.user(presented.user, presented.password)
            return None if user is None else Principal(admin=user.admin, user=user)
        if (session := self.sessions.get(digest)) is not None:
            user = self.tokens.users.get(session[0])
            if user is not None and user.password_hash == session[1]:
                return Principal(admin=user.admin, user=user)
        record = self.tokens.find(digest)
        return None if record is None else Principal(admin=False, token=record)


async def _form_credentials(request: Request) -> tuple[str | None, str | None]:
    """1.x clients may send ``u`` and ``p`` in a form body of POST /query."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None, None
    from urllib.parse import parse_qs

    values = parse_qs((await request.body()).decode(errors="replace"))
    return values.get("u", [None])[-1], values.get("p", [None])[-1]


async def authenticate(request: Request) -> None:
    """App-wide dependency: decide who is asking, or refuse."""
    auth: Authenticator = request.app.state.gateway.auth
    request.state.principal = await auth.principal_for(request)


def principal(request: Request) -> Principal:
    p: Principal = request.state.principal
    return p


def authorize(request: Request, action: str, db: str | None) -> None:
    """Refuse unless the request's token or user may ``action`` (read or write) ``db``."""
    who = principal(request)
    if not who.allows(action, db):
        what = f"{action} database {db!r}" if db else "do that"
        raise Forbidden(f"{who.subject} may not {what}")


def require_admin(request: Request) -> None:
    if not principal(request).admin:
        raise Forbidden("only the admin token may do this")
