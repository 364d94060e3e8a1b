"""CREATE USER, DROP USER, SET PASSWORD, GRANT, REVOKE, SHOW USERS and SHOW GRANTS, answered
as influxd 1.x answers them. The catalog's owner (the persister) keeps the users; passwords
are hashed here, so neither the persister's loop nor the catalog ever sees one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge_common.errors import Forbidden, QueryError
from edge_common.users import hash_password
from edge_query.influxql import ast
from edge_query.influxql.text import statement_text

if TYPE_CHECKING:
    from edge_query.influxql.executor import InfluxQLContext

__all__ = ["check_admin_statements", "is_user_statement", "run_user_statement"]


def is_user_statement(stmt: ast.Statement) -> bool:
    if isinstance(stmt, ast.ShowStatement):
        return stmt.what in ("USERS", "GRANTS")
    return isinstance(stmt, ast.CreateUser | ast.DropUser | ast.SetPassword | ast.Grant)


def check_admin_statements(statements: list[ast.Statement], ctx: InfluxQLContext) -> None:
    """Refuse the whole request (403) if it holds a user statement and the caller is no
    admin, as influxd authorizes a query before running any of it."""
    if ctx.admin:
        return
    for stmt in statements:
        if is_user_statement(stmt):
            raise Forbidden(
                f"error authorizing query: {ctx.user or 'this token'} not authorized to "
                f"execute statement '{statement_text(stmt)}', requires admin privilege"
            )


def run_user_statement(stmt: ast.Statement, ctx: InfluxQLContext) -> list[dict[str, Any]]:
    """One user statement, its caller found an admin (``check_admin_statements``, before
    any statement of the request ran)."""
    if isinstance(stmt, ast.ShowStatement):
        return _show(stmt, ctx)
    if ctx.change_catalog is None:
        raise QueryError("users cannot be changed here")
    op: dict[str, Any] = {"op": "user"}
    if isinstance(stmt, ast.CreateUser):
        held = ctx.catalog(True).users.get(stmt.name)
        if held is not None:  # the same user again is no change (influxd 1.6's rule)
            if held.admin == stmt.admin and held.password_is(stmt.password):
                return []
            raise QueryError("user already exists")
        op |= {"action": "create", "name": stmt.name, "admin": stmt.admin}
        op["password_hash"] = hash_password(stmt.password)
    elif isinstance(stmt, ast.DropUser):
        op |= {"action": "drop", "name": stmt.name}
    elif isinstance(stmt, ast.SetPassword):
        op |= {"action": "set_password", "name": stmt.name}
        op["password_hash"] = hash_password(stmt.password)
    else:
        assert isinstance(stmt, ast.Grant)
        action = "revoke" if stmt.revoke else "grant"
        op |= {"action": action, "name": stmt.user, "db": stmt.database}
        op["privilege"] = stmt.privilege
    ctx.change_catalog(op)
    ctx.access_changed = True
    return []


def _show(stmt: ast.ShowStatement, ctx: InfluxQLContext) -> list[dict[str, Any]]:
    users = ctx.catalog(True).users
    if stmt.what == "USERS":  # in the order they were made, as influxd lists them
        listing: dict[str, Any] = {"columns": ["user", "admin"]}
        rows = [[u.name, u.admin] for u in users.values()]
    else:
        user = users.get(stmt.user or "")
        if user is None:
            raise QueryError("user not found")
        listing = {"columns": ["database", "privilege"]}
        rows = [[db, p] for db, p in user.privileges.items()]
    return [listing | {"values": rows} if rows else listing]
