"""Statements parsed before, made again for a text that differs from theirs only in the
literals of its WHERE conditions: the next TSBS host and hour (``hostname = 'host_7' AND
time >= '2016-01-01T03:00:00Z'``), the next Grafana refresh (``time >= 1700000000000ms``).

Parsing such a statement took ~0.1 ms of a ~0.5 ms question; making it from the one parsed
before takes a scan of the text for literals and the copy of a few nodes. A text's *shape* is
the text with its string and number literals cut out. The first text of a shape is parsed
(``Template.of``), and the literals that became nodes of a condition are its *slots*: each
is where its node sits in the statements, and how a new literal of its place becomes a node
(as the parser makes it: a time is read in the statement's zone). Another text of the same
shape is then its template's statements with the slots' nodes swapped for its own
literals'. Anything uncertain falls back to a whole parse of the text, which also raises
its errors in influxd's words:

- a literal that is no slot (in a field, fill(), LIMIT, tz(), or one our scan took for a
  literal where the parser read otherwise, as inside a regex) must read as in the template;
- a new value that the parser would take otherwise: a date-like string where the template
  had a string compared with time that was none, a time that does not parse, a number out
  of range or of another kind.

Only the parser's own literal nodes are slots, found by identity in the statements; the
parser keeps each node it made (``_Parser.made``), so none of their ids is reused by
another node during the parse.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Sequence
from typing import Any

from edge_query.influxql import ast
from edge_query.influxql.lexer import DATE_LIKE, Token, parse_duration, scan, timestamp

__all__ = ["Made", "Template", "shape_of"]

# skipped (kept in the shape as written): quoted names, comments, what may be a regex;
# cut out: string literals (group 1) and numbers, durations included (group 2)
_LITERALS = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|--[^\n]*|/\*.*?\*/|/(?:[^/\\\n]|\\.)*/'
    r"|('(?:[^'\\\n]|\\.)*')"
    r"|(?<![\w.$])(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[A-Za-zµμ]*)",
    re.DOTALL,
)

# what the parser made of a literal token: (node, token, kind, zone); kind is the token's
# STRING, INTEGER, NUMBER or DURATION, or TIME (a string read as a time in ``zone``) or TIMED
# (a string compared with time that is no date, left a string)
Made = dict[int, tuple[ast.Expr, Token, str, datetime.tzinfo | None]]

Path = tuple[Any, ...]  # attribute names and list positions, from a statement down


def shape_of(text: str) -> tuple[str, tuple[tuple[int, int], ...], tuple[str, ...]] | None:
    """``text`` with its literals cut out, their places and their texts; ``None`` for a
    text without any."""
    cuts: list[tuple[int, int]] = []
    for m in _LITERALS.finditer(text):
        if m.lastindex is not None:
            cuts.append(m.span(m.lastindex))
    if not cuts:
        return None
    pieces, at = [], 0
    for start, end in cuts:
        pieces.append(text[at:start])
        pieces.append("\x00")
        at = end
    pieces.append(text[at:])
    return "".join(pieces), tuple(cuts), tuple(text[s:e] for s, e in cuts)


@dataclasses.dataclass(slots=True)
class _Slot:
    kind: str  # as in ``Made``
    zone: datetime.tzinfo | None
    places: list[tuple[int, Path]]  # (statement, path) of each place the node sits

    def node(self, literal: str) -> ast.Expr | None:
        """The node the parser would make of ``literal`` here, or ``None`` when it would
        make another kind, or raise an error. Kept: nodes are never changed once made, and
        the next host or hour asked was most often asked before (~8 µs a time literal)."""
        key = (self.kind, self.zone, literal)
        found = _NODES.get(key, _UNMADE)
        if found is _UNMADE:
            if len(_NODES) >= _NODES_KEPT:
                _NODES.clear()
            found = _NODES[key] = self._made(literal)
        return found  # type: ignore[return-value]

    def _made(self, literal: str) -> ast.Expr | None:
        tok = scan(literal, 0)
        if tok.end != len(literal):
            return None
        if self.kind in ("STRING", "TIMED", "TIME"):
            if tok.kind != "STRING":
                return None
            dated = DATE_LIKE.match(tok.value) is not None
            if self.kind == "STRING":
                return ast.StringLiteral(tok.value)
            if self.kind == "TIMED":
                return None if dated else ast.StringLiteral(tok.value)
            assert self.zone is not None
            ns = timestamp(tok.value, self.zone) if dated else None
            return None if ns is None else ast.TimeLiteral(ns, tok.value)
        if tok.kind != self.kind:
            return None
        if tok.kind == "INTEGER":
            n = int(tok.value)
            return ast.IntegerLiteral(n) if n < 2**64 else None
        if tok.kind == "NUMBER":
            x = float(tok.value)
            return None if x in (float("inf"), float("-inf")) else ast.NumberLiteral(x)
        try:
            return ast.DurationLiteral(parse_duration(tok.value), tok.value)
        except ValueError:
            return None


_NODES: dict[tuple[str, datetime.tzinfo | None, str], ast.Expr | None] = {}
_NODES_KEPT = 4096
_UNMADE = object()


@dataclasses.dataclass(slots=True)
class Template:
    statements: list[ast.Statement]
    literals: tuple[str, ...]  # the template's literals, as written
    slots: dict[int, _Slot]  # by literal's number

    @classmethod
    def of(
        cls,
        statements: list[ast.Statement],
        made: Made,
        cuts: Sequence[tuple[int, int]],
        literals: tuple[str, ...],
    ) -> Template:
        """The template of a text whose literals at ``cuts`` the parser read as ``made``."""
        found: dict[int, list[tuple[int, Path] | None]] = {}
        for i, statement in enumerate(statements):
            _find(statement, made, i, found)
        by_start: dict[int, list[int]] = {}
        for key, (_, tok, _, _) in made.items():
            if key in found and None not in found[key]:  # (a slot sits in conditions only)
                by_start.setdefault(tok.pos - 1, []).append(key)
        slots = {}
        for k, (start, end) in enumerate(cuts):
            keys = by_start.get(start, [])
            if len(keys) != 1:
                continue  # no node in a condition (or, not expected, two)
            _, tok, kind, zone = made[keys[0]]
            if tok.end == end:  # (else our scan read a literal where the parser did not)
                slots[k] = _Slot(kind, zone, [p for p in found[keys[0]] if p is not None])
        return cls(statements, literals, slots)

    def made_of(self, literals: tuple[str, ...]) -> list[ast.Statement] | None:
        """The statements of a text of this shape with ``literals``; ``None`` when it must
        be parsed."""
        changes: dict[Any, Any] = {}  # statement → … → the new node, as a tree of paths
        for k, (ours, theirs) in enumerate(zip(self.literals, literals, strict=True)):
            if ours == theirs:
                continue
            slot = self.slots.get(k)
            node = None if slot is None else slot.node(theirs)
            if node is None:
                return None
            assert slot is not None
            for i, path in slot.places:
                at = changes.setdefault(i, {})
                for key in path[:-1]:
                    at = at.setdefault(key, {})
                at[path[-1]] = _New(node)
        return _put(self.statements, changes)


def _find(
    node: Any,
    made: Made,
    statement: int,
    found: dict[int, list[tuple[int, Path] | None]],
) -> None:
    """Where the parser's literal nodes sit in ``node``: each place in a condition, or
    ``None`` for a place elsewhere or deeper than ``_DEEPEST`` (a long ``a OR b OR …`` is
    as deep as it is long: walked with a list, not by recursion, as the parser does)."""
    todo: list[tuple[Any, Path | None, bool]] = [(node, (), False)]
    while todo:
        node, path, in_condition = todo.pop()
        if path is not None and len(path) > _DEEPEST:
            path = None
        if isinstance(node, list | tuple):
            for i, item in enumerate(node):
                todo.append((item, None if path is None else (*path, i), in_condition))
            continue
        if not dataclasses.is_dataclass(node) or isinstance(node, type):
            continue
        entry = made.get(id(node))
        if entry is not None and entry[0] is node:
            place = (statement, path) if in_condition and path is not None else None
            found.setdefault(id(node), []).append(place)
            continue
        for f in dataclasses.fields(node):
            inside = in_condition or f.name == "condition"
            below = None if path is None else (*path, f.name)
            todo.append((getattr(node, f.name), below, inside))


_DEEPEST = 64  # a literal deeper in its statement is no slot (the copy of its path recurses)


@dataclasses.dataclass(slots=True)
class _New:
    node: ast.Expr


def _put(node: Any, changes: dict[Any, Any]) -> Any:
    """A copy of ``node`` with ``changes`` made (by attribute or position: a new node, or
    the changes below); what is off their paths is shared."""
    if isinstance(node, list | tuple):
        items = list(node)
        for key, change in changes.items():
            items[key] = change.node if isinstance(change, _New) else _put(items[key], change)
        return items if isinstance(node, list) else tuple(items)
    copied = object.__new__(type(node))
    fields = copied.__dict__
    fields.update(node.__dict__)
    for key, change in changes.items():
        fields[key] = change.node if isinstance(change, _New) else _put(fields[key], change)
    return copied
