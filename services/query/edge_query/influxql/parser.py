"""InfluxQL parser: query text → ``ast`` statements, by recursive descent.

Errors read like influxd 1.x's (``error parsing query: found FROM, expected identifier at
line 1, char 8``), down to influxd's positions: it trims the query first, reports the end of
the query one character further when the last word ran into it, and points one character
before the opening quote of a string or regex. String literals compared with ``time`` become
``TimeLiteral`` here, in the statement's ``tz()`` zone when they carry no offset.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
import threading
import zoneinfo
from collections import OrderedDict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from edge_query.influxql import ast
from edge_query.influxql.lexer import (
    DATE_LIKE,
    Token,
    parse_duration,
    quote_ident,
    scan,
    timestamp,
    words,
)
from edge_query.influxql.shapes import Made, Template, shape_of
from edge_query.influxql.text import duration_text

__all__ = ["InfluxQLError", "dimension_problem", "parse", "regex_problem"]


class InfluxQLError(Exception):
    """A query that doesn't parse. ``message`` is the bare message; ``position`` the 1-based
    character offset into the query text that influxd would point at (its quirks included:
    one before a string's or regex's opening quote, and for the end of the query
    ``len(text.rstrip()) + 1``, or one more after a word or ``--`` comment); ``line`` and
    ``char`` the same place counted from the first non-blank character, as influxd trims the
    query. ``str()`` is influxd's whole answer, e.g. ``error parsing query: found FROM,
    expected identifier at line 1, char 8``; some messages carry no location (``located``),
    as in influxd (``invalid duration``, ``missing parameter: x``, fill() and tz() errors)."""

    def __init__(self, message: str, position: int, line: int, char: int, located: bool = True):
        super().__init__(message)
        self.message = message
        self.position = position
        self.line = line
        self.char = char
        self.located = located  # influxd leaves the location out of some messages

    def __str__(self) -> str:
        where = f" at line {self.line}, char {self.char}" if self.located else ""
        return f"error parsing query: {self.message}{where}"


def parse(
    text: str, params: dict[str, object] | None = None, now_ns: int | None = None
) -> list[ast.Statement]:
    """Parse ``;``-separated statements. ``$name`` takes its value from ``params``.
    ``now()`` stays symbolic (``NowCall``), so ``now_ns`` isn't needed here.

    Statements parsed before are answered from memory (a dashboard asks the same text at
    every refresh, its times relative to now(); parsing took ~0.13 ms of a 2 ms question),
    and so are texts differing from one parsed before only in literals of WHERE
    conditions (``shapes``). Nothing changes a statement once parsed; the list is the
    caller's own."""
    if len(text) > _KEPT_TEXT:
        return _Parser(text, params or {}).parse()
    bound = tuple(sorted((k, type(v).__name__, repr(v)) for k, v in (params or {}).items()))
    key = (text, bound)
    with _PARSED_LOCK:  # (a query worker's control thread parses too)
        kept = _PARSED.get(key)
        if kept is not None:
            _PARSED.move_to_end(key)
            return list(kept)
    shape = shape_of(text)
    statements = None
    if shape is not None:
        with _PARSED_LOCK:
            template = _SHAPES.get((shape[0], bound))
        if template is not None:
            statements = template.made_of(shape[2])
    if statements is None:
        parser = _Parser(text, params or {})
        statements = parser.parse()
        if shape is not None:
            template = Template.of(statements, parser.made, shape[1], shape[2])
            with _PARSED_LOCK:
                _keep(_SHAPES, (shape[0], bound), template)
    with _PARSED_LOCK:
        _keep(_PARSED, key, statements)
    return list(statements)


def _keep(kept: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    kept[key] = value
    if len(kept) > _KEPT_STATEMENTS:
        kept.popitem(last=False)


_KEPT_TEXT = 8192  # characters: longer texts are parsed each time
_KEPT_STATEMENTS = 512  # (and as many shapes)
_PARSED_LOCK = threading.Lock()
_PARSED: OrderedDict[tuple[str, tuple[tuple[str, str, str], ...]], list[ast.Statement]] = (
    OrderedDict()
)
_SHAPES: OrderedDict[tuple[str, tuple[tuple[str, str, str], ...]], Template] = OrderedDict()


_PRECEDENCE = {"OR": 1, "AND": 2, "+": 4, "-": 4, "|": 4, "^": 4, "*": 5, "/": 5, "%": 5, "&": 5}
_PRECEDENCE.update(dict.fromkeys(("=", "!=", "<>", "=~", "!~", "<", "<=", ">", ">="), 3))
_COMPARISONS = frozenset(("=", "!=", "<", "<=", ">", ">="))
_SELECT_ONLY = frozenset(("+", "-", "*", "/", "%", "&", "|", "^"))
_TYPES = ("float", "integer", "unsigned", "string", "boolean")
_FILLS = ("null", "none", "previous", "linear")
_STATEMENTS = words("SELECT DELETE SHOW CREATE DROP EXPLAIN GRANT REVOKE ALTER SET KILL")
_SHOW_WORDS = words(
    """CONTINUOUS DATABASES DIAGNOSTICS FIELD GRANTS MEASUREMENT MEASUREMENTS QUERIES RETENTION
    SERIES SHARD SHARDS STATS SUBSCRIPTIONS TAG USERS"""
)
_CREATE_WORDS = words("CONTINUOUS DATABASE USER RETENTION SUBSCRIPTION")
_DROP_WORDS = words("CONTINUOUS DATABASE MEASUREMENT RETENTION SERIES SHARD SUBSCRIPTION USER")
_OBJECT_NAMES = {"CONTINUOUS": "CONTINUOUS QUERY", "RETENTION": "RETENTION POLICY"}
_MAX_INT32 = 2**31 - 1


class _Parser:
    def __init__(self, text: str, params: dict[str, object]) -> None:
        self.text = text
        self.params = params
        self.lead = len(text) - len(text.lstrip())  # influxd trims the query
        self.i = 0  # offset of the next token
        self.eof_peeked = False  # a regex was looked for at the end (influxd: one char on)
        self.made: Made = {}  # each literal's node, by id: its token (time errors, shapes)
        self.cached: tuple[int, bool, Token] = (-1, False, Token("EOF", "", 0, 0))

    def parse(self) -> list[ast.Statement]:
        try:
            return self.query()
        except RecursionError:
            raise self.error("query is nested too deeply", self.lead + 1) from None

    # --- tokens ---------------------------------------------------------------------------
    def peek(self, regex: bool = False) -> Token:
        at, scanned_for_regex, tok = self.cached
        # what does not start with "/" reads the same with or without ``regex``
        if at == self.i and (scanned_for_regex == regex or not _slash_at(self.text, self.i)):
            return tok
        tok = scan(self.text, self.i, regex=regex)
        if tok.kind == "PARAM" and tok.value in self.params:
            tok = _bind(tok, self.params[tok.value])
        self.cached = (self.i, regex, tok)
        return tok

    def next(self, regex: bool = False) -> Token:
        tok = self.peek(regex)
        self.i = tok.end
        return tok

    def accept(self, kind: str, *values: str) -> Token | None:
        tok = self.peek()
        if tok.kind == kind and tok.value in values:
            return self.next()
        return None

    def expect(self, kind: str, value: str) -> Token:
        tok = self.peek()
        if tok.kind != kind or tok.value != value:
            raise self.unexpected(tok, value)
        return self.next()

    def choose(self, options: tuple[str, ...]) -> str:
        """The next keyword, which must be one of ``options``."""
        tok = self.peek()
        if tok.kind != "KEYWORD" or tok.value not in options:
            raise self.unexpected(tok, *options)
        return self.next().value

    def ident(self) -> str:
        tok = self.peek()
        if tok.kind != "IDENT":
            raise self.unexpected(tok, "identifier")
        return self.next().value

    def regex(self) -> ast.RegexLiteral | None:
        """A regex if one comes next."""
        tok = self.peek(regex=True)
        if tok.kind == "EOF":
            self.eof_peeked = True
        if tok.kind == "BADREGEX":
            raise self.error("bad regex: ", self.where(tok))
        if tok.kind != "REGEX":
            return None
        problem = regex_problem(tok.value)
        if problem is not None:
            raise self.error(f"error parsing regexp: {problem}", self.where(tok))
        self.next(regex=True)
        return ast.RegexLiteral(tok.value)

    def required_regex(self) -> ast.RegexLiteral:
        found = self.regex()
        if found is None:
            raise self.unexpected(self.peek(), "regex")
        return found

    # --- errors ---------------------------------------------------------------------------
    def where(self, tok: Token) -> int:
        """The position influxd reports for ``tok``."""
        if tok.kind == "EOF":
            return tok.pos + int(tok.consumed or self.eof_peeked)
        if tok.kind in ("STRING", "BADSTRING", "REGEX", "BADREGEX"):
            return max(tok.pos - 1, self.lead + 1)
        return tok.pos

    def locate(self, position: int) -> tuple[int, int]:
        """(line, char) of a position, counted as influxd counts them: from the first
        non-blank character of the query."""
        k = position - 1 - self.lead
        before = self.text[self.lead : self.lead + k]
        return before.count("\n") + 1, k - before.rfind("\n")

    def error(self, message: str, position: int, located: bool = True) -> InfluxQLError:
        return InfluxQLError(message, position, *self.locate(position), located)

    def unexpected(self, tok: Token, *expected: str) -> InfluxQLError:
        if tok.kind == "BADCOMMENT":  # (influxd's scanner: an ILLEGAL token at the "/*")
            return self.error(f"found ILLEGAL, expected {', '.join(expected)}", tok.pos)
        return self.error(f"found {tok.found()}, expected {', '.join(expected)}", self.where(tok))

    def unlocated(self, message: str, tok: Token) -> InfluxQLError:
        return self.error(message, self.where(tok), located=False)

    # --- statements -----------------------------------------------------------------------
    def query(self) -> list[ast.Statement]:
        statements: list[ast.Statement] = []
        separated = True
        while True:
            tok = self.peek()
            if tok.kind == "EOF":
                return statements
            if tok.kind == "OP" and tok.value == ";":
                self.next()
                separated = True
                continue
            if not separated:
                raise self.unexpected(tok, ";")
            statements.append(self.statement())
            separated = False

    def statement(self) -> ast.Statement:
        tok = self.peek()
        word = self.choose(_STATEMENTS)
        if word == "SELECT":
            return self.select()
        if word == "DELETE":
            return ast.Delete(*self.from_where())
        if word == "SHOW":
            return self.show(tok)
        if word == "CREATE":
            return self.create(tok)
        if word == "DROP":
            return self.drop(tok)
        if word == "KILL":
            return self.kill()
        if word == "ALTER":
            return self.alter()
        if word == "EXPLAIN":
            analyze = bool(self.accept("KEYWORD", "ANALYZE"))
            self.expect("KEYWORD", "SELECT")
            return ast.Explain(self.select(), analyze)
        if word in ("GRANT", "REVOKE"):
            return self.grant(revoke=word == "REVOKE")
        if word == "SET":
            self.expect("KEYWORD", "PASSWORD")
            self.expect("KEYWORD", "FOR")
            name = self.ident()
            self.expect("OP", "=")
            return ast.SetPassword(name, self.string())
        raise self.unsupported(tok, word)

    def kill(self) -> ast.KillQuery:
        """KILL QUERY qid (``ON host`` names a node of a cluster: there is one node here)."""
        self.expect("KEYWORD", "QUERY")
        tok = self.peek()
        if tok.kind != "INTEGER":
            raise self.unexpected(tok, "integer")
        self.next()
        if self.accept("KEYWORD", "ON"):
            self.ident()
        return ast.KillQuery(int(tok.value))

    def unsupported(self, start: Token, what: str) -> InfluxQLError:
        return self.error(f"{what} is not supported", start.pos)

    def grant(self, revoke: bool) -> ast.Grant:
        """GRANT READ|WRITE|ALL [PRIVILEGES] ON db TO user, GRANT ALL [PRIVILEGES] TO user,
        and REVOKE … FROM user alike (influxd's grammar and errors)."""
        tok = self.peek()
        if self.accept("KEYWORD", "READ", "WRITE"):
            privilege = tok.value
        elif self.accept("KEYWORD", "ALL"):
            self.accept("KEYWORD", "PRIVILEGES")
            privilege = "ALL PRIVILEGES"
        else:
            raise self.unexpected(tok, "READ", "WRITE", "ALL [PRIVILEGES]")
        to = "FROM" if revoke else "TO"
        if privilege == "ALL PRIVILEGES" and self.accept("KEYWORD", to):
            return ast.Grant(privilege, None, self.ident(), revoke)
        if not self.accept("KEYWORD", "ON"):
            expected = ("ON", to) if privilege == "ALL PRIVILEGES" else ("ON",)
            raise self.unexpected(self.peek(), *expected)
        database = self.ident()
        self.expect("KEYWORD", to)
        return ast.Grant(privilege, database, self.ident(), revoke)

    def string(self) -> str:
        tok = self.peek()
        if tok.kind != "STRING":
            raise self.unexpected(tok, "string")
        return self.next().value

    def select(self, continuous: bool = False) -> ast.SelectStatement:
        """A SELECT; ``continuous``: a continuous query's, which must write INTO and group
        by time() (influxd's errors)."""
        fields = self.fields()
        into = self.target() if self.accept("KEYWORD", "INTO") else None
        if continuous and into is None:
            raise self.unexpected(self.peek(), "INTO")
        self.expect("KEYWORD", "FROM")
        first = self.peek()
        stmt = ast.SelectStatement(fields, self.sources(subqueries=True), into)
        stmt.condition = self.condition()
        grouped = self.peek()
        stmt.dimensions = self.dimensions()
        if continuous and (problem := dimension_problem(stmt)) is not None:
            raise self.error(problem, self.where(grouped))
        if continuous and not any(
            isinstance(d.expr, ast.Call) and d.expr.name == "time" for d in stmt.dimensions
        ):
            raise self.error(f"found {first.found()}, expected GROUP BY time(...)", first.pos)
        stmt.fill, stmt.fill_value = self.fill()
        stmt.order_by = self.order_by()
        stmt.limit, stmt.offset = self.int_after("LIMIT"), self.int_after("OFFSET")
        stmt.slimit, stmt.soffset = self.int_after("SLIMIT"), self.int_after("SOFFSET")
        stmt.timezone, zone = self.timezone()
        stmt.condition = self.time_literals(stmt.condition, zone)
        return stmt

    def from_where(self) -> tuple[list[ast.Source], ast.Expr | None]:
        """DELETE and DROP SERIES: [FROM sources] [WHERE cond], at least one of them; the
        sources without database or retention policy (they apply to the query's database)."""
        after = self.peek()
        sources: list[ast.Source] = []
        if self.accept("KEYWORD", "FROM"):
            while True:
                start = self.peek()
                src = self.source(subqueries=False)
                if isinstance(src, ast.Measurement) and src.retention_policy is not None:
                    raise self.error("retention policy not supported", start.pos)
                if isinstance(src, ast.Measurement) and src.database is not None:
                    raise self.error("database not supported", start.pos)
                sources.append(src)
                if not self.accept("OP", ","):
                    break
        condition = self.time_literals(self.condition(), datetime.UTC)
        if not sources and condition is None:
            raise self.unexpected(after, "FROM", "WHERE")
        return sources, condition

    def create(self, start: Token) -> ast.Statement:
        word = self.choose(_CREATE_WORDS)
        if word == "RETENTION":
            self.expect("KEYWORD", "POLICY")
            return self.create_policy()
        if word == "CONTINUOUS":
            self.expect("KEYWORD", "QUERY")
            return self.create_continuous()
        if word == "USER":
            name = self.ident()
            self.expect("KEYWORD", "WITH")
            self.expect("KEYWORD", "PASSWORD")
            user = ast.CreateUser(name, self.string())
            if self.accept("KEYWORD", "WITH"):
                self.expect("KEYWORD", "ALL")
                self.expect("KEYWORD", "PRIVILEGES")
                user.admin = True
            return user
        if word != "DATABASE":
            raise self.unsupported(start, f"CREATE {_OBJECT_NAMES.get(word, word)}")
        stmt = ast.CreateDatabase(self.ident())
        if self.accept("KEYWORD", "WITH"):
            stmt.policy = self.retention_options()
        return stmt

    def create_continuous(self) -> ast.CreateContinuousQuery:
        """CREATE CONTINUOUS QUERY cq ON db [RESAMPLE [EVERY d] [FOR d]] BEGIN SELECT … INTO
        … GROUP BY time(…) … END."""
        name = self.ident()
        self.expect("KEYWORD", "ON")
        database = self.ident()
        every = for_ = 0
        if self.accept("KEYWORD", "RESAMPLE"):
            tok = self.peek()
            if self.accept("KEYWORD", "EVERY"):
                every = self.retention_duration(infinite=False)
            if self.accept("KEYWORD", "FOR"):
                for_ = self.retention_duration(infinite=False)
            if not every and not for_:
                raise self.unexpected(tok, "EVERY", "FOR")
        self.expect("KEYWORD", "BEGIN")
        self.expect("KEYWORD", "SELECT")
        select = self.select(continuous=True)
        self.expect("KEYWORD", "END")
        interval = next(
            d.expr.args[0].ns
            for d in select.dimensions
            if isinstance(d.expr, ast.Call)
            and d.expr.name == "time"
            and d.expr.args
            and isinstance(d.expr.args[0], ast.DurationLiteral)
        )
        if for_ and for_ < interval:
            raise self.error(
                "FOR duration must be >= GROUP BY time duration: must be a minimum of "
                f"{duration_text(interval)}, got {duration_text(for_)}",
                self.i,
                located=False,
            )
        return ast.CreateContinuousQuery(name, database, select, every, for_)

    def retention_options(self) -> dict[str, Any]:
        """CREATE DATABASE … WITH [DURATION d] [REPLICATION n] [SHARD DURATION d] [NAME rp]:
        the default retention policy's settings (edge_persister.catalog's spec)."""
        tok = self.peek()
        if tok.kind != "KEYWORD" or tok.value not in ("DURATION", "NAME", "REPLICATION", "SHARD"):
            raise self.unexpected(tok, "DURATION", "NAME", "REPLICATION", "SHARD")
        spec: dict[str, Any] = {}
        if self.accept("KEYWORD", "DURATION"):
            spec["duration_ns"] = self.retention_duration()
        if self.accept("KEYWORD", "REPLICATION"):
            spec["replication"] = self.replication()
        if self.accept("KEYWORD", "SHARD"):
            self.expect("KEYWORD", "DURATION")
            spec["shard_duration_ns"] = self.retention_duration()
        if self.accept("KEYWORD", "NAME"):
            spec["name"] = self.ident()
        return spec

    def create_policy(self) -> ast.CreateRetentionPolicy:
        """CREATE RETENTION POLICY rp ON db DURATION d REPLICATION n [SHARD DURATION d]
        [DEFAULT], influxd's order and errors."""
        name = self.ident()
        self.expect("KEYWORD", "ON")
        stmt = ast.CreateRetentionPolicy(name, self.ident())
        self.expect("KEYWORD", "DURATION")
        stmt.duration_ns = self.retention_duration()
        self.expect("KEYWORD", "REPLICATION")
        stmt.replication = self.replication()
        if self.accept("KEYWORD", "SHARD"):
            self.expect("KEYWORD", "DURATION")
            stmt.shard_duration_ns = self.shard_duration()
        stmt.default = self.accept("KEYWORD", "DEFAULT") is not None
        return stmt

    def alter(self) -> ast.AlterRetentionPolicy:
        """ALTER RETENTION POLICY rp ON db, then at least one of DURATION d, REPLICATION n,
        SHARD DURATION d, DEFAULT, in any order, each once."""
        self.expect("KEYWORD", "RETENTION")
        self.expect("KEYWORD", "POLICY")
        tok = self.peek()
        if tok.kind == "KEYWORD" and tok.value == "DEFAULT":  # influxd's name for it
            self.next()
            name = "default"
        else:
            name = self.ident()
        self.expect("KEYWORD", "ON")
        stmt = ast.AlterRetentionPolicy(name, self.ident())
        found: set[str] = set()
        while True:
            tok = self.peek()
            if tok.kind == "KEYWORD" and tok.value in found:
                raise self.error(f"found duplicate {tok.value} option", tok.pos)
            if self.accept("KEYWORD", "DURATION"):
                stmt.duration_ns = self.retention_duration()
            elif self.accept("KEYWORD", "REPLICATION"):
                stmt.replication = self.replication()
            elif self.accept("KEYWORD", "SHARD"):
                self.expect("KEYWORD", "DURATION")
                stmt.shard_duration_ns = self.shard_duration()
            elif self.accept("KEYWORD", "DEFAULT"):
                stmt.default = True
            elif not found:
                raise self.unexpected(tok, "DURATION", "REPLICATION", "SHARD", "DEFAULT")
            else:
                return stmt
            found.add(tok.value)

    def replication(self) -> int:
        tok = self.peek()
        if tok.kind != "INTEGER":
            raise self.unexpected(tok, "integer")
        n = int(self.next().value)
        if not 1 <= n <= _MAX_INT32:
            raise self.error(f"invalid value {n}: must be 1 <= n <= {_MAX_INT32}", tok.pos)
        return n

    def shard_duration(self) -> int:
        tok = self.peek()
        if tok.kind == "KEYWORD" and tok.value == "INF":
            raise self.error("invalid duration INF for shard duration", tok.pos)
        return self.retention_duration()

    def retention_duration(self, infinite: bool = True) -> int:
        """A duration in ns; INF (where ``infinite``) is 0, for ever."""
        tok = self.peek()
        if infinite and tok.kind == "KEYWORD" and tok.value == "INF":
            self.next()
            return 0
        if tok.kind != "DURATION":
            raise self.unexpected(tok, "duration")
        self.next()
        try:
            return parse_duration(tok.value)
        except ValueError as err:
            raise self.error(str(err), tok.pos) from None

    def drop(self, start: Token) -> ast.Statement:
        word = self.choose(_DROP_WORDS)
        if word == "DATABASE":
            return ast.DropDatabase(self.ident())
        if word == "USER":
            return ast.DropUser(self.ident())
        if word == "MEASUREMENT":
            return ast.DropMeasurement(self.ident())
        if word == "SERIES":
            return ast.DropSeries(*self.from_where())
        if word == "RETENTION":
            self.expect("KEYWORD", "POLICY")
            name = self.ident()
            self.expect("KEYWORD", "ON")
            return ast.DropRetentionPolicy(name, self.ident())
        if word == "CONTINUOUS":
            self.expect("KEYWORD", "QUERY")
            name = self.ident()
            self.expect("KEYWORD", "ON")
            return ast.DropContinuousQuery(name, self.ident())
        raise self.unsupported(start, f"DROP {_OBJECT_NAMES.get(word, word)}")

    def show(self, start: Token) -> ast.ShowStatement:
        word = self.choose(_SHOW_WORDS)
        if word == "DATABASES":
            return ast.ShowStatement("DATABASES")
        if word == "USERS":
            return ast.ShowStatement("USERS")
        if word == "GRANTS":
            self.expect("KEYWORD", "FOR")
            return ast.ShowStatement("GRANTS", user=self.ident())
        if word in ("DIAGNOSTICS", "QUERIES", "SHARDS", "SUBSCRIPTIONS"):
            return ast.ShowStatement(word)
        if word == "STATS":
            module = None
            if self.accept("KEYWORD", "FOR"):
                module = self.string()
            return ast.ShowStatement("STATS", module=module)
        if word == "SHARD":
            self.expect("KEYWORD", "GROUPS")
            return ast.ShowStatement("SHARD GROUPS")
        if word == "CONTINUOUS":
            self.expect("KEYWORD", "QUERIES")
            return ast.ShowStatement("CONTINUOUS QUERIES")
        if word == "RETENTION":
            self.expect("KEYWORD", "POLICIES")
            return ast.ShowStatement("RETENTION POLICIES", database=self.on())
        if word == "MEASUREMENTS":
            return self.show_measurements()
        if word == "MEASUREMENT":
            return self.show_keys("MEASUREMENT", exact=self.exact_cardinality())
        if word == "SERIES":  # (influxd: an EXACT not followed by CARDINALITY is ignored)
            precise = self.accept("KEYWORD", "EXACT") is not None
            if self.accept("KEYWORD", "CARDINALITY"):
                return self.show_keys("SERIES", exact=precise)
            return self.show_keys("SERIES")
        if word == "FIELD":
            if self.choose(("KEY", "KEYS")) == "KEYS":
                return self.show_keys("FIELD KEYS", where=False)
            return self.show_keys("FIELD KEY", exact=self.exact_cardinality())
        second = self.choose(("KEY", "KEYS", "VALUES"))  # SHOW TAG …
        if second == "KEYS":
            return self.show_keys("TAG KEYS")
        if second == "KEY":
            return self.show_keys("TAG KEY", exact=self.exact_cardinality())
        exact = self.exact_cardinality() if self.cardinality_next() else None
        return self.show_keys("TAG VALUES", with_key=True, exact=exact)

    def exact_cardinality(self) -> bool:
        """[EXACT] CARDINALITY: whether EXACT was there."""
        exact = self.accept("KEYWORD", "EXACT") is not None
        if not self.accept("KEYWORD", "CARDINALITY"):
            raise self.unexpected(self.peek(), *([] if exact else ["EXACT"]), "CARDINALITY")
        return exact

    def cardinality_next(self) -> bool:
        tok = self.peek()
        return tok.kind == "KEYWORD" and tok.value in ("EXACT", "CARDINALITY")

    def on(self) -> str | None:
        return self.ident() if self.accept("KEYWORD", "ON") else None

    def show_measurements(self) -> ast.ShowStatement:
        stmt = ast.ShowStatement("MEASUREMENTS", database=self.on())
        if self.accept("KEYWORD", "WITH"):
            self.expect("KEYWORD", "MEASUREMENT")
            if not self.accept("OP", "=", "=~"):
                raise self.unexpected(self.peek(), "=", "=~")
            src = self.source(subqueries=False)
            assert isinstance(src, ast.Measurement)
            name = ast.VarRef("_name")
            if src.regex is not None:
                stmt.with_measurement = ast.BinaryExpr("=~", name, ast.RegexLiteral(src.regex))
            else:
                stmt.with_measurement = ast.BinaryExpr("=", name, ast.StringLiteral(src.name or ""))
        stmt.condition = self.time_literals(self.condition(), datetime.UTC)
        self.order_by()
        stmt.limit, stmt.offset = self.int_after("LIMIT"), self.int_after("OFFSET")
        return stmt

    def show_keys(
        self, what: str, where: bool = True, with_key: bool = False, exact: bool | None = None
    ) -> ast.ShowStatement:
        """SHOW TAG KEYS | TAG VALUES | FIELD KEYS | SERIES | … CARDINALITY: [ON db]
        [FROM …] [WITH KEY …] [WHERE …] [ORDER BY time (not with CARDINALITY)] [LIMIT n]
        [OFFSET n]."""
        if exact is not None:
            what += " CARDINALITY"
        stmt = ast.ShowStatement(what, database=self.on(), exact=bool(exact))
        if self.accept("KEYWORD", "FROM"):
            stmt.sources = self.sources(subqueries=False)
        if with_key:
            stmt.with_key = self.with_key()
        if where:
            stmt.condition = self.time_literals(self.condition(), datetime.UTC)
        if exact is None:
            self.order_by()
        stmt.limit, stmt.offset = self.int_after("LIMIT"), self.int_after("OFFSET")
        return stmt

    def with_key(self) -> ast.Expr:
        """WITH KEY = k | != k | =~ /re/ | !~ /re/ | IN (k1, k2)."""
        self.expect("KEYWORD", "WITH")
        self.expect("KEYWORD", "KEY")
        key = ast.VarRef("_tagKey")
        tok = self.next()
        if tok.kind == "KEYWORD" and tok.value == "IN":
            self.expect("OP", "(")
            names = [ast.StringLiteral(self.ident())]
            while self.accept("OP", ","):
                names.append(ast.StringLiteral(self.ident()))
            self.expect("OP", ")")
            return ast.BinaryExpr("IN", key, ast.Call("list", tuple(names)))
        if tok.kind == "OP" and tok.value in ("=", "!=", "<>"):
            op = "!=" if tok.value == "<>" else tok.value
            return ast.BinaryExpr(op, key, ast.StringLiteral(self.ident()))
        if tok.kind == "OP" and tok.value in ("=~", "!~"):
            return ast.BinaryExpr(tok.value, key, self.required_regex())
        raise self.unexpected(tok, "IN", "=", "=~")

    # --- clauses --------------------------------------------------------------------------
    def fields(self) -> list[ast.Field]:
        fields = []
        while True:
            start = self.peek()
            expr: ast.Expr | None = self.regex()
            if expr is None:
                expr = self.expr()
                bad = _boolean_operators(expr)
                if bad:
                    line, char = self.locate(self.where(start))
                    message = f"invalid operator {bad[-1]} in SELECT clause at line {line}, "
                    message += f"char {char}; operator is intended for WHERE clause"
                    raise self.error(message, self.where(start), located=False)
            alias = self.ident() if self.accept("KEYWORD", "AS") else None
            fields.append(ast.Field(expr, alias))
            if not self.accept("OP", ","):
                return fields

    def target(self) -> ast.Measurement:
        """INTO [[db.]rp.]name, or [db.]rp.:MEASUREMENT (name None: the source's name)."""
        first = self.peek()
        names = self.segments(self.ident(), first, stop=":")
        if len(names) < 3 and self.text[self.i : self.i + 1] == ":":
            self.expect("OP", ":")
            self.expect("KEYWORD", "MEASUREMENT")
            names.append("")
        db, rp, name = [None] * (3 - len(names)) + [n or None for n in names]
        return ast.Measurement(name=name, database=db, retention_policy=rp)

    def sources(self, subqueries: bool) -> list[ast.Source]:
        sources = [self.source(subqueries)]
        while self.accept("OP", ","):
            sources.append(self.source(subqueries))
        return sources

    def source(self, subqueries: bool) -> ast.Source:
        """/re/ | (SELECT …) | [db.][rp.]name | db.rp./re/ | rp./re/ (empty rp: db..name)."""
        found = self.regex()
        if found is not None:
            return ast.Measurement(regex=found.pattern)
        if subqueries and self.accept("OP", "("):
            self.expect("KEYWORD", "SELECT")
            stmt = self.select()
            self.expect("OP", ")")
            return ast.SubQuery(stmt)
        first = self.peek()
        names = self.segments(self.ident(), first, stop="/:")
        if len(names) < 3 and self.text[self.i - 1 : self.i] == ".":
            pattern = self.required_regex().pattern
            db, rp = [None, *names][-2:]
            return ast.Measurement(regex=pattern, database=db or None, retention_policy=rp or None)
        blanks = _BLANKS_THEN_SLASH.match(self.text, self.i)
        if len(names) < 3 and blanks is not None:
            # influxd looks for a regex after the name, and its scanner hands it the blanks
            # before the "/": a name then " /" is refused so, whatever follows
            raise self.error(f"found {blanks.group(1)}, expected regex", self.i + 1)
        db, rp, name = [None] * (3 - len(names)) + names
        return ast.Measurement(name=name, database=db or None, retention_policy=rp or None)

    def segments(self, first: str, start: Token, stop: str = "") -> list[str]:
        """``a.b.c`` (``a..c`` has an empty middle) after its first identifier. Stops after a
        dot followed by a character in ``stop`` (a regex or ``:MEASUREMENT`` comes next)."""
        names = [first]
        while True:
            tok = self.peek()
            if tok.kind != "OP" or tok.value != "." or tok.spaced:
                break
            self.next()
            ch = self.text[self.i : self.i + 1]
            if self.peek().kind == "EOF":
                self.eof_peeked = True
            if ch and ch in stop:
                break
            names.append("" if ch == "." else self.ident())
        if len(names) > 3:
            raise self.error(f"too many segments in {quote_ident(names)}", start.pos)
        return names

    def condition(self) -> ast.Expr | None:
        return self.expr() if self.accept("KEYWORD", "WHERE") else None

    def dimensions(self) -> list[ast.Dimension]:
        if not self.accept("KEYWORD", "GROUP"):
            return []
        self.expect("KEYWORD", "BY")
        dims: list[ast.Dimension] = []
        while True:
            expr: ast.Expr | None = self.regex()
            if expr is None:
                expr = self.expr()
                while isinstance(expr, ast.ParenExpr):
                    expr = expr.expr
            dims.append(ast.Dimension(expr))
            if not self.accept("OP", ","):
                return dims

    def fill(self) -> tuple[str | None, float | int | None]:
        tok = self.peek()
        if tok.kind != "IDENT" or tok.value.lower() != "fill":
            return None, None
        call = self.expr()
        if not isinstance(call, ast.Call):
            raise self.unlocated("fill must be a function call", tok)
        if len(call.args) != 1:
            message = "fill requires an argument, e.g.: 0, null, none, previous, linear"
            raise self.unlocated(message, tok)
        arg = call.args[0]
        if isinstance(arg, ast.VarRef) and arg.type_hint is None and arg.name in _FILLS:
            return arg.name, None
        if isinstance(arg, ast.IntegerLiteral | ast.NumberLiteral):
            return None, arg.value
        raise self.unlocated("expected number argument in fill()", tok)

    def order_by(self) -> list[ast.SortField]:
        if not self.accept("KEYWORD", "ORDER"):
            return []
        self.expect("KEYWORD", "BY")
        tok = self.peek()
        if tok.kind == "KEYWORD" and tok.value in ("ASC", "DESC"):
            fields = [ast.SortField("time", self.next().value == "ASC")]
        elif tok.kind == "IDENT":
            fields = [self.sort_field()]
        else:
            raise self.unexpected(tok, "identifier", "ASC", "DESC")
        while self.accept("OP", ","):
            fields.append(self.sort_field())
        if len(fields) > 1 or fields[0].name != "time":
            raise self.unlocated("only ORDER BY time supported at this time", tok)
        return fields

    def sort_field(self) -> ast.SortField:
        name = self.ident()
        direction = self.accept("KEYWORD", "ASC", "DESC")
        return ast.SortField(name, direction is None or direction.value == "ASC")

    def int_after(self, word: str) -> int | None:
        """``LIMIT n`` and the like, if the keyword comes next."""
        if not self.accept("KEYWORD", word):
            return None
        tok = self.peek()
        if tok.kind != "INTEGER":
            raise self.unexpected(tok, "integer")
        n = int(self.next().value)
        if n < 0:  # only a bound parameter can be negative here
            raise self.error(f"{word} must be >= 0", tok.pos)
        return n

    def timezone(self) -> tuple[str | None, datetime.tzinfo]:
        tok = self.peek()
        if tok.kind != "IDENT" or tok.value.lower() != "tz":
            return None, datetime.UTC
        call = self.expr()
        if not isinstance(call, ast.Call):
            raise self.unlocated("tz must be a function call", tok)
        if len(call.args) != 1:
            raise self.unlocated("tz requires exactly one argument", tok)
        arg = call.args[0]
        if not isinstance(arg, ast.StringLiteral):
            raise self.unlocated("expected string argument in tz()", tok)
        if arg.value in ("", "UTC"):
            return arg.value, datetime.UTC
        try:
            return arg.value, zoneinfo.ZoneInfo(arg.value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise self.unlocated(f"unable to find time zone {arg.value}", tok) from None

    # --- expressions ----------------------------------------------------------------------
    def expr(self, min_precedence: int = 1, lhs: ast.Expr | None = None) -> ast.Expr:
        """Binary operators by precedence: OR < AND < comparisons < + - | ^ < * / % &."""
        if lhs is None:
            lhs = self.unary()
        while True:
            tok = self.peek()
            op = tok.value if tok.kind in ("OP", "KEYWORD") else ""
            precedence = _PRECEDENCE.get(op, 0)
            if precedence < min_precedence:
                return lhs
            self.next()
            first = self.required_regex() if op in ("=~", "!~") else self.unary()
            rhs = self.expr(precedence + 1, first)
            lhs = ast.BinaryExpr("!=" if op == "<>" else op, lhs, rhs)

    def unary(self) -> ast.Expr:
        tok = self.peek()
        kind, value = tok.kind, tok.value
        if kind == "OP" and value in ("+", "-"):
            self.next()
            nxt = self.peek()
            if nxt.kind in ("NUMBER", "INTEGER", "DURATION", "IDENT") or (
                nxt.value == "(" and (nxt.kind == "OP")
            ):
                operand = self.unary()
                return _negate(operand) if value == "-" else operand
            raise self.unexpected(nxt, "identifier", "number", "duration", "(")
        if kind == "OP" and value == "(":
            self.next()
            inner = self.expr()
            self.expect("OP", ")")
            return ast.ParenExpr(inner)
        if kind == "OP" and value == "*":
            self.next()
            return ast.Wildcard(self.type_hint(("field", "tag")))
        if kind == "IDENT":
            self.next()
            if self.immediately("("):
                self.next()
                return self.call(value)
            name = ".".join(self.segments(value, tok))
            return ast.VarRef(name, self.type_hint((*_TYPES, "field", "tag")))
        if kind == "KEYWORD" and value == "DISTINCT":
            self.next()
            return self.distinct()
        if kind == "KEYWORD" and value in ("TRUE", "FALSE"):
            self.next()
            return ast.BoolLiteral(value == "TRUE")
        if kind in ("STRING", "INTEGER", "NUMBER", "DURATION"):
            self.next()
            return self.literal(tok)
        if kind == "PARAM":
            raise self.unbound(tok)
        raise self.unexpected(tok, "identifier", "string", "number", "bool")

    def immediately(self, op: str) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.value == op and not tok.spaced

    def literal(self, tok: Token) -> ast.Expr:
        node: ast.Expr
        if tok.kind == "STRING":
            node = ast.StringLiteral(tok.value)
        elif tok.kind == "INTEGER":
            n = int(tok.value)
            if n >= 2**64:
                raise self.error("unable to parse integer", tok.pos)
            node = ast.IntegerLiteral(n)
        elif tok.kind == "NUMBER":
            x = float(tok.value)
            if x in (float("inf"), float("-inf")):
                raise self.error("unable to parse number", tok.pos)
            node = ast.NumberLiteral(x)
        else:
            try:
                node = ast.DurationLiteral(parse_duration(tok.value), tok.value)
            except ValueError as err:
                raise self.unlocated(str(err), tok) from None
        self.made[id(node)] = (node, tok, tok.kind, None)
        return node

    def unbound(self, tok: Token) -> InfluxQLError:
        if not tok.value:
            return self.unlocated("empty bound parameter", tok)
        if tok.value not in self.params:
            return self.unlocated(f"missing parameter: {tok.value}", tok)
        kind = type(self.params[tok.value]).__name__
        return self.unlocated(f"unable to bind parameter with type {kind}", tok)

    def distinct(self) -> ast.Expr:
        """``distinct(x)`` or ``DISTINCT x``, after the DISTINCT keyword."""
        if self.immediately("("):
            self.next()
            return self.call("distinct")
        tok = self.peek()
        if not tok.spaced:
            raise self.unexpected(tok, "(", "identifier")
        return ast.Call("distinct", (ast.VarRef(self.ident()),))

    def call(self, name: str) -> ast.Expr:
        """Arguments and ``)`` of a call whose ``name(`` was read."""
        args: list[ast.Expr] = []
        if not self.accept("OP", ")"):
            while True:
                args.append(self.regex() or self.expr())
                if not self.accept("OP", ","):
                    break
            self.expect("OP", ")")
        if name.lower() == "now" and not args:
            return ast.NowCall()
        return ast.Call(name.lower(), tuple(args))

    def type_hint(self, allowed: tuple[str, ...]) -> str | None:
        """``::field``, ``::tag``, ``::integer`` … right after a name or ``*``."""
        if not self.immediately("::"):
            return None
        self.next()
        tok = self.peek()
        word = tok.value.lower()
        ok = word in ("field", "tag") if tok.kind == "KEYWORD" else tok.kind == "IDENT"
        if not ok or word not in allowed:
            listed = allowed if tok.kind == "IDENT" else [a for a in allowed if a != "unsigned"]
            raise self.unexpected(tok, *listed)
        self.next()
        return word

    # --- time literals --------------------------------------------------------------------
    def time_literals(self, expr: ast.Expr | None, zone: datetime.tzinfo) -> ast.Expr | None:
        """Strings compared with ``time`` (also in ``time > '…' - 1h``) → TimeLiteral; one that
        is no time stays a string (the planner refuses it in influxd's words)."""
        return None if expr is None else self.convert(expr, zone)

    def convert(self, expr: ast.Expr, zone: datetime.tzinfo) -> ast.Expr:
        spine = []  # a long `a OR b OR …` is a left-deep tree: walk its left side in a loop
        while isinstance(expr, ast.BinaryExpr) and expr.op in ("AND", "OR"):
            spine.append(expr)
            expr = expr.lhs
        if isinstance(expr, ast.ParenExpr):
            expr = ast.ParenExpr(self.convert(expr.expr, zone))
        elif isinstance(expr, ast.BinaryExpr) and expr.op in _COMPARISONS:
            if _is_time(expr.lhs):
                expr = dataclasses.replace(expr, rhs=self.to_time(expr.rhs, zone))
            elif _is_time(expr.rhs):
                expr = dataclasses.replace(expr, lhs=self.to_time(expr.lhs, zone))
        for node in reversed(spine):
            expr = dataclasses.replace(node, lhs=expr, rhs=self.convert(node.rhs, zone))
        return expr

    def to_time(self, expr: ast.Expr, zone: datetime.tzinfo) -> ast.Expr:
        if isinstance(expr, ast.ParenExpr):
            return ast.ParenExpr(self.to_time(expr.expr, zone))
        if isinstance(expr, ast.BinaryExpr) and expr.op in ("+", "-"):
            lhs, rhs = self.to_time(expr.lhs, zone), self.to_time(expr.rhs, zone)
            return dataclasses.replace(expr, lhs=lhs, rhs=rhs)
        if not isinstance(expr, ast.StringLiteral):
            return expr
        tok = self.made[id(expr)][1]
        if not DATE_LIKE.match(expr.value):
            self.made[id(expr)] = (expr, tok, "TIMED", zone)
            return expr  # not a date: the planner says what's wrong with it, as influxd does
        ns = timestamp(expr.value, zone)
        if ns is None:  # (influxd says so when it runs the statement: the planner does)
            self.made[id(expr)] = (expr, tok, "TIMED", zone)
            return expr
        node = ast.TimeLiteral(ns, expr.value)
        self.made[id(node)] = (node, tok, "TIME", zone)
        return node


# --- helpers ------------------------------------------------------------------------------
def _bind(tok: Token, value: object) -> Token:
    """A bound parameter's value as the token it stands for (as influxd substitutes)."""
    if isinstance(value, bool):
        return dataclasses.replace(tok, kind="KEYWORD", value="TRUE" if value else "FALSE")
    if isinstance(value, int):
        return dataclasses.replace(tok, kind="INTEGER", value=str(value))
    if isinstance(value, float):
        return dataclasses.replace(tok, kind="NUMBER", value=repr(value))
    if isinstance(value, str):
        return dataclasses.replace(tok, kind="STRING", value=value, pos=tok.pos + 1)
    return tok


def _negate(expr: ast.Expr) -> ast.Expr:
    if isinstance(expr, ast.IntegerLiteral):
        return ast.IntegerLiteral(-expr.value)
    if isinstance(expr, ast.NumberLiteral):
        return ast.NumberLiteral(-expr.value)
    if isinstance(expr, ast.DurationLiteral):
        return ast.DurationLiteral(-expr.ns, "-" + expr.text)
    return ast.UnaryExpr("-", expr)


def _boolean_operators(expr: ast.Expr) -> list[str]:
    """Comparison and logical operators in a SELECT field (influxd refuses them), in order."""
    found, todo = [], [expr]
    while todo:
        e = todo.pop()
        if isinstance(e, ast.BinaryExpr) and e.op not in _SELECT_ONLY:
            found.append(e.op)
        elif isinstance(e, ast.BinaryExpr):
            todo += [e.rhs, e.lhs]
        elif isinstance(e, ast.ParenExpr | ast.UnaryExpr):
            todo.append(e.expr)
        elif isinstance(e, ast.Call):
            todo += reversed(e.args)
    return found


def dimension_problem(stmt: ast.SelectStatement) -> str | None:
    """What influxd says of the statement's GROUP BY, which it checks when it compiles the
    statement (an error of the statement, not of parsing), or None."""
    seen_time = False
    for d in stmt.dimensions:
        if not isinstance(d.expr, ast.RegexLiteral):
            message = _dimension_problem(d.expr, seen_time)
            if message:
                return message
            seen_time = seen_time or isinstance(d.expr, ast.Call)
    return None


def _dimension_problem(expr: ast.Expr, seen_time: bool) -> str | None:
    """What influxd would say about a GROUP BY item."""
    if isinstance(expr, ast.VarRef):
        if expr.name.lower() == "time":
            return "time() is a function and expects at least one argument"
        return None
    if isinstance(expr, ast.Wildcard):
        return None
    if not isinstance(expr, ast.Call):
        return "only time and tag dimensions allowed"
    if expr.name != "time":
        return "only time() calls allowed in dimensions"
    if seen_time:
        return "multiple time dimensions not allowed"
    if len(expr.args) not in (1, 2):
        return "time dimension expected 1 or 2 arguments"
    interval = expr.args[0]
    if not isinstance(interval, ast.DurationLiteral):
        return "time dimension must have duration argument"
    if len(expr.args) == 2 and not isinstance(expr.args[1], ast.DurationLiteral | ast.NowCall):
        return "time dimension offset must be duration or now()"
    return None


@functools.lru_cache(maxsize=256)
def regex_problem(pattern: str) -> str | None:
    """What Go's regexp package says of a pattern it cannot compile (influxd compiles each
    regex as it parses it), from RE2's word for it (the syntax Go's regexp took from RE2):
    ``missing argument to repetition operator: `*```; None for a good pattern."""
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except pa.ArrowInvalid as err:
        said = str(err).removeprefix("Invalid regular expression: ")
        code, _, fragment = said.partition(": ")
        return f"{_GO_REGEX_CODES.get(code, code)}: `{fragment}`"
    return None


_GO_REGEX_CODES = {  # RE2's words → Go's
    "no argument for repetition operator": "missing argument to repetition operator",
    "bad repetition operator": "invalid nested repetition operator",
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "trailing \\": "trailing backslash at end of expression",
    "invalid repetition size": "invalid repeat count",
    "invalid named capture group": "invalid named capture",
    "invalid perl operator": "invalid or unsupported Perl syntax",
}


def _slash_at(text: str, i: int) -> bool:
    """Whether the next character but blanks is a "/" (a regex, a comment, or division)."""
    return _SLASH_NEXT.match(text, i) is not None


_SLASH_NEXT = re.compile(r"[ \t\n\r]*/")
_BLANKS_THEN_SLASH = re.compile(r"([ \t\n\r]+)/")


def _is_time(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.VarRef) and expr.name.lower() == "time"
