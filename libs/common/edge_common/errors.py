"""The exception tree. Domain code raises these; the gateway maps them to HTTP in one table.

Over ZeroMQ an error travels as ``{"code": <code>, "message": <text>}``; :func:`from_wire`
turns it back into the same class on the other side.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadRequest",
    "Conflict",
    "DatabaseNotFound",
    "EdgeError",
    "Forbidden",
    "LimitExceeded",
    "NotFound",
    "ObjectStoreError",
    "PayloadTooLarge",
    "QueryError",
    "SchemaConflict",
    "TooManyRequests",
    "Unauthenticated",
    "Unavailable",
    "from_wire",
]


class EdgeError(Exception):
    """Base of every error Edge raises on purpose."""

    code = "internal"

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


class BadRequest(EdgeError):
    """The request itself is malformed (parameters, body, encoding)."""

    code = "bad_request"


class PayloadTooLarge(EdgeError):
    """The request body exceeds the configured limit."""

    code = "too_large"


class NotFound(EdgeError):
    """The named thing does not exist."""

    code = "not_found"


class DatabaseNotFound(NotFound):
    """The named database does not exist."""

    code = "db_not_found"


class Conflict(EdgeError):
    """The thing to create exists already."""

    code = "conflict"


class Unauthenticated(EdgeError):
    """The request carries no token, or one that is unknown or expired."""

    code = "unauthenticated"


class Forbidden(EdgeError):
    """The token is valid but does not allow this."""

    code = "forbidden"


class TooManyRequests(EdgeError):
    """Too many failed attempts from this client; it must wait."""

    code = "too_many"


class LimitExceeded(EdgeError):
    """A catalog limit (databases, tables, columns) would be exceeded."""

    code = "limit"


class SchemaConflict(EdgeError):
    """A column's type or kind differs from the catalog's."""

    code = "schema_conflict"


class QueryError(EdgeError):
    """The query could not be planned or run."""

    code = "query"


class Unavailable(EdgeError):
    """A process of the group did not answer in time."""

    code = "unavailable"


class ObjectStoreError(EdgeError):
    """The object store failed or could not be reached (after its own retries)."""

    code = "object_store"


_BY_CODE: dict[str, type[EdgeError]] = {
    cls.code: cls
    for cls in (
        EdgeError,
        BadRequest,
        PayloadTooLarge,
        NotFound,
        DatabaseNotFound,
        Conflict,
        Unauthenticated,
        Forbidden,
        TooManyRequests,
        LimitExceeded,
        SchemaConflict,
        QueryError,
        Unavailable,
        ObjectStoreError,
    )
}


def from_wire(payload: dict[str, Any]) -> EdgeError:
    """Rebuild an error sent as ``{code, message[, data]}``."""
    cls = _BY_CODE.get(str(payload.get("code")), EdgeError)
    return cls(str(payload.get("message", "")), payload.get("data"))
