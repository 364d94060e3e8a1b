"""Find what a query needs before any data moves: for each table, the columns it reads, the
time range its filters allow, the values its filters allow for some columns (``col =
'text'``, or an OR of those) and the plain comparisons every row must pass (``col > 90``),
from DataFusion's optimized logical plan.

The persister applies value constraints only to tag columns: every version of a row (same
tags, same time) then passes or fails together, so merging repeats stays correct. It applies
comparisons (on fields too) only where no two sources overlap in time, so no row has a second
version that could change the field compared. Both only pre-filter: the query still applies
its own filters to what arrives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from datafusion import SessionConfig, SessionContext, SQLOptions

from edge_common.picks import Pick
from edge_common.schema import TIME_COLUMN, DatabaseSchema

__all__ = [
    "COMPARISONS",
    "READ_ONLY",
    "Comparison",
    "TableNeed",
    "TablePick",
    "new_context",
    "plan_needs",
]

# (column, operator, value): ``"usage_user" > 90.0``; operators as Parquet filters name them
Comparison = tuple[str, str, Any]
# a stored table, and the rows of it a first()/last() query can pick (set by InfluxQL)
TablePick = tuple[str, Pick]
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")

# queries read: no CREATE/DROP (which would change a context), no INSERT, no SET
READ_ONLY = SQLOptions().with_allow_ddl(False).with_allow_dml(False).with_allow_statements(False)


@dataclass
class TableNeed:
    """Columns (``None``: all) and time bounds (inclusive, ns) a query needs of one table."""

    name: str
    columns: set[str] | None = None
    min_ns: int | None = None
    max_ns: int | None = None
    values: dict[str, set[str]] = field(default_factory=dict)
    compare: list[Comparison] = field(default_factory=list)
    pick: Pick | None = None  # only the rows first()/last() can pick (set by the caller)
    scans: int = 0

    def widen(
        self,
        columns: list[str] | None,
        lo: int | None,
        hi: int | None,
        values: dict[str, set[str]] | None = None,
        compare: list[Comparison] | None = None,
    ) -> None:
        """Add one more scan of this table: the union of what every scan needs."""
        values = values or {}
        compare = compare or []
        if self.scans == 0:
            self.columns = None if columns is None else set(columns)
            self.min_ns, self.max_ns = lo, hi
            self.values = {k: set(v) for k, v in values.items()}
            self.compare = list(compare)
        else:
            # a column stays constrained only if every scan constrains it
            self.values = {k: v | values[k] for k, v in self.values.items() if k in values}
            self.compare = [c for c in self.compare if c in compare]
            self.columns = (
                None if columns is None or self.columns is None else (self.columns | set(columns))
            )
            self.min_ns = None if lo is None or self.min_ns is None else min(lo, self.min_ns)
            self.max_ns = None if hi is None or self.max_ns is None else max(hi, self.max_ns)
        self.scans += 1

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": None if self.columns is None else sorted(self.columns),
            "min_ns": self.min_ns,
            "max_ns": self.max_ns,
            "values": {k: sorted(v) for k, v in self.values.items()} or None,
            "compare": [list(c) for c in self.compare] or None,
            "pick": None if self.pick is None else self.pick.to_wire(),
        }


def new_context(partitions: int = 2) -> SessionContext:
    # tables live in catalog "public", schema "iox", as in InfluxDB 3 (information_schema and
    # Flight SQL metadata show the same names): ``SELECT * FROM public.iox.cpu`` works too
    config = (
        SessionConfig()
        .with_information_schema(True)
        .with_target_partitions(partitions)
        .with_default_catalog_and_schema("public", "iox")
    )
    return SessionContext(config)


def register_empty(ctx: SessionContext, db: DatabaseSchema) -> None:
    for name, table in db.tables.items():
        schema = table.query_schema()
        ctx.register_record_batches(name, [[pa.RecordBatch.from_pylist([], schema=schema)]])


def plan_needs(
    ctx: SessionContext, sql: str, params: dict[str, Any] | None
) -> dict[str, TableNeed]:
    """Plan ``sql`` over empty tables; return what each scanned table must supply."""
    plan = ctx.sql(sql, options=READ_ONLY, param_values=params or None).optimized_logical_plan()
    needs: dict[str, TableNeed] = {}
    _walk(plan, None, needs)
    return needs


def _walk(plan: Any, parent_filter: Any, needs: dict[str, TableNeed]) -> None:
    node = plan.to_variant()
    kind = type(node).__name__
    if kind == "TableScan":
        name = _bare(node.table_name())
        projection = node.projection()
        # no projection at all: every column; an empty one (count(*)): time for the row count
        cols = None if projection is None else [c for _, c in projection] or [TIME_COLUMN]
        lo: int | None = None
        hi: int | None = None
        predicates = list(node.filters())
        if parent_filter is not None:
            predicates.append(parent_filter)
        values: dict[str, set[str]] = {}
        compare: list[Comparison] = []
        for p in predicates:
            plo, phi = _time_bounds(p)
            lo = plo if lo is None else (lo if plo is None else max(lo, plo))
            hi = phi if hi is None else (hi if phi is None else min(hi, phi))
            values = _and(values, _allowed_values(p))
            compare += _comparisons(p)
        if cols is not None and TIME_COLUMN not in cols and (lo is not None or hi is not None):
            cols = [*cols, TIME_COLUMN]
        needs.setdefault(name, TableNeed(name)).widen(cols, lo, hi, values, compare)
        return
    this_filter = node.predicate() if kind == "Filter" else None
    for child in plan.inputs():
        _walk(child, this_filter, needs)


def _bare(name: str) -> str:
    """``public.iox.cpu`` and ``iox.cpu`` are ``cpu``: the scan names what the query wrote."""
    for prefix in ("public.iox.", "iox."):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _and(a: dict[str, set[str]], b: dict[str, set[str]]) -> dict[str, set[str]]:
    out = {k: set(v) for k, v in a.items()}
    for k, v in b.items():
        out[k] = out[k] & v if k in out else set(v)
    return out


def _allowed_values(expr: Any) -> dict[str, set[str]]:
    """Columns whose text value a predicate pins to a set: ``col = 'x'``, an OR of such
    comparisons on one column (``IN``), and ANDs of those; anything else: none."""
    node = expr.to_variant()
    if type(node).__name__ != "BinaryExpr":
        return {}
    op = node.op()
    if op == "AND":
        return _and(_allowed_values(node.left()), _allowed_values(node.right()))
    if op == "OR":
        left, right = _allowed_values(node.left()), _allowed_values(node.right())
        if len(left) == 1 and left.keys() == right.keys():
            (k,) = left
            return {k: left[k] | right[k]}
        return {}
    if op != "=":
        return {}
    for col, lit in ((node.left(), node.right()), (node.right(), node.left())):
        name = _column_name(col)
        value = _text_literal(lit)
        if name is not None and value is not None:
            return {name: {value}}
    return {}


def _comparisons(expr: Any) -> list[Comparison]:
    """The ``column <op> literal`` terms a predicate ANDs together (column uncast, not time,
    literal a number, text or boolean); other terms are left to the query."""
    node = expr.to_variant()
    if type(node).__name__ != "BinaryExpr":
        return []
    op = node.op()
    if op == "AND":
        return _comparisons(node.left()) + _comparisons(node.right())
    if op not in COMPARISONS:
        return []
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
    for col, lit, this_op in (
        (node.left(), node.right(), op),
        (node.right(), node.left(), flip.get(op, op)),
    ):
        cnode = col.to_variant()
        if type(cnode).__name__ != "Column" or cnode.name() == TIME_COLUMN:
            continue
        value = _plain_literal(lit)
        if value is not None:
            return [(str(cnode.name()), this_op, value)]
    return []


def _plain_literal(expr: Any) -> Any:
    if type(expr.to_variant()).__name__ != "Literal":
        return None
    scalar = expr.python_value()
    value = scalar.as_py() if isinstance(scalar, pa.Scalar) else scalar
    if isinstance(value, float) and value != value:
        return None  # NaN: SQL orders it above every number, Arrow's kernels compare it false
    return value if isinstance(value, (bool, int, float, str)) else None


def _column_name(expr: Any) -> str | None:
    node = expr.to_variant()
    kind = type(node).__name__
    if kind == "Cast":
        node = node.expr().to_variant()
        kind = type(node).__name__
    return str(node.name()) if kind == "Column" else None


def _text_literal(expr: Any) -> str | None:
    if type(expr.to_variant()).__name__ != "Literal":
        return None
    scalar = expr.python_value()
    value = scalar.as_py() if isinstance(scalar, pa.Scalar) else scalar
    return value if isinstance(value, str) else None


def _time_bounds(expr: Any) -> tuple[int | None, int | None]:
    """Bounds on ``time`` implied by a predicate (only through AND; anything else: none)."""
    node = expr.to_variant()
    if type(node).__name__ != "BinaryExpr":
        return None, None
    op = node.op()
    if op == "AND":
        llo, lhi = _time_bounds(node.left())
        rlo, rhi = _time_bounds(node.right())
        lo = llo if rlo is None else (rlo if llo is None else max(llo, rlo))
        hi = lhi if rhi is None else (rhi if lhi is None else min(lhi, rhi))
        return lo, hi
    left, right = node.left(), node.right()
    if _is_time(left) and (v := _ts_literal(right)) is not None:
        value, flipped = v, False
    elif _is_time(right) and (v := _ts_literal(left)) is not None:
        value, flipped = v, True
    else:
        return None, None
    if flipped:
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    if op in (">", ">="):
        return value + (1 if op == ">" else 0), None
    if op in ("<", "<="):
        return None, value - (1 if op == "<" else 0)
    if op == "=":
        return value, value
    return None, None


def _is_time(expr: Any) -> bool:
    node = expr.to_variant()
    return type(node).__name__ == "Column" and node.name() == TIME_COLUMN


def _ts_literal(expr: Any) -> int | None:
    node = expr.to_variant()
    if type(node).__name__ != "Literal" or not str(node.data_type()).startswith("Timestamp"):
        return None
    value, _tz = node.value_timestamp()
    if value is None:
        return None
    unit = str(node.data_type())
    scale = (
        1
        if "(ns" in unit or "Nanosecond" in unit
        else (
            1_000
            if "(µs" in unit or "(us" in unit or "Microsecond" in unit
            else (1_000_000 if "(ms" in unit or "Millisecond" in unit else 1_000_000_000)
        )
    )
    return int(value) * scale
