"""Line protocol made at random (from a fixed seed), to be written to influxd 1.6.7 and to
Edge: names and values needing escapes, every field type and its spellings, repeated
points, type conflicts, blank lines and comments, and lines with one mistake each.

    python -m tests.compat.writes --seed 3 --count 500 [--padded]

Each body goes to a database of its own on both servers; what is compared is the answer
to the write (status and message) and what each server then holds: ``SELECT *`` of every
measurement (times as epoch ns) and the SHOW statements naming its series, tags and
fields. Not part of the suite: what it finds and is fixed becomes a test.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tests.compat.explore import first_difference, side_by_side
from tests.compat.generated import Chooser
from tests.http import http

_NAMES = ["cpu", "m", "disk io", "a,b", "x=y", "ünï", 'q"t', "back\\slash", "_m", "9m"]
_KEYS = ["host", "region", "a b", "k,1", "k=v", "ö", "t\\x", "_k", "Host"]
_VALUES = ["h1", "h2", "us west", "a,b", "x=y", "ü", "v\\", 'q"', "1", "true", "e"]
_FIELDS = ["value", "v", "f 1", "f,2", "f=3", "ü", "_f", "Value", "time_x"]
_PRECISION = {"": 1, "n": 1, "ns": 1, "u": 1_000, "ms": 1_000_000, "s": 10**9}
_PRECISION |= {"m": 60 * 10**9, "h": 3600 * 10**9}
_BASE_NS = 1_451_606_400 * 10**9  # 2016-01-01T00:00:00Z

# (query parameters, the bodies written one after the other, whether their points have times)
Case = tuple[dict[str, str], list[str], bool]


def _escape(text: str, specials: str) -> str:
    text = text.replace("\\", "\\\\") if "\\" in specials else text
    for c in specials.replace("\\", ""):
        text = text.replace(c, "\\" + c)
    return text


class _Maker(Chooser):
    def value(self, kind: str) -> str:
        r = self.r
        if kind == "float":
            return r.choice(["1", "-1.5", "0.25", "1e3", "-2E-2", ".5", "1.", "3.0", "+4"])
        if kind == "int":
            return r.choice(["1i", "-7i", "0i", "9223372036854775807i", "-9223372036854775808i"])
        if kind == "bool":
            return r.choice(["t", "T", "true", "True", "TRUE", "f", "F", "false", "FALSE"])
        texts = ["x", "", "a b", 'say "hi"', "back\\slash", "comma,eq=", "ü", "line\nbreak"]
        text = r.choice(texts)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def line(self, name: str, kinds: dict[str, str], ts: int | None) -> str:
        parts = [_escape(name, ", ")]
        tags = self.r.sample(_KEYS, self.r.randint(0, 3))
        parts += [f",{_escape(k, ',= ')}={_escape(self.pick(_VALUES), ',= ')}" for k in tags]
        fields = self.r.sample(sorted(kinds), self.r.randint(1, min(3, len(kinds))))
        text = ",".join(f"{_escape(f, ',= ')}={self.value(kinds[f])}" for f in fields)
        stamp = "" if ts is None else f" {ts}"
        return "".join(parts) + " " + text + stamp

    def case(self) -> Case:
        """(query parameters, the bodies written one after the other, whether their points
        have times). A field keeps its type within a body; the second body may give it
        another: influxd refuses the whole of a body whose points disagree."""
        r = self.r
        precision = self.pick(list(_PRECISION))
        unit = _PRECISION[precision]
        timed = not self.chance(0.05)
        kinds = {f: self.pick(["float", "float", "int", "bool", "string"]) for f in _FIELDS}
        names = r.sample(_NAMES, r.randint(1, 3))
        bodies = []
        for part in range(r.choice([1, 1, 2])):
            if part and self.chance(0.5):  # fields of another type than before: conflicts
                kinds = {f: self.pick(["float", "int", "bool", "string"]) for f in _FIELDS}
            lines = []
            for _ in range(r.randint(1, 8)):
                # within hours of each other (one shard of influxd), some at the same time
                ns = _BASE_NS + r.choice([0, 0, 1, 7, 60, 3600]) * r.randint(0, 5) * 10**9
                line = self.line(self.pick(names), kinds, ns // unit if timed else None)
                lines.append(self.mistake(line) if self.chance(0.15) else line)
                if self.chance(0.08):
                    lines.append(self.pick(["", "# a comment", "   ", "\t"]))
            bodies.append("\n".join(lines) + ("\n" if self.chance(0.5) else ""))
        params = {"precision": precision} if precision else {}
        return params, bodies, timed

    def mistake(self, line: str) -> str:
        r = self.r
        how = r.randrange(7)
        if how == 0:  # a character dropped (not of the time: influxd checks types by week)
            head, _, stamp = line.rpartition(" ")
            kept = len(head) if stamp.isdigit() else len(line)
            i = r.randrange(kept)
            return line[:i] + line[i + 1 :]
        if how == 1:  # the fields left out (not after a backslash: influxd's line goes on)
            return line.split(" ", 1)[0].removesuffix("\\")
        if how == 2:  # a stray word at the end
            return line + " extra"
        if how == 3:  # a value unquoted or of no type
            return line.replace("=", "=abc", 1) if " " in line else line + " f=abc"
        if how == 4:  # an integer too big
            return line.split(" ")[0] + " v=9223372036854775808i"
        if how == 5:  # a time that is no number
            return line.rsplit(" ", 1)[0] + " 12x"
        return line.replace(" ", "  ", 1)  # two spaces


def cases(seed: int, count: int, padded: bool = False) -> list[Case]:
    """``padded``: each body after 100 plain lines of a measurement of its own, so that it
    is past 2 KiB and goes through the columnar parser (smaller ones go to the exact one)."""
    maker = _Maker(seed)
    made = [maker.case() for _ in range(count)]
    if padded:
        made = [(params, [_pad(params) + b for b in bodies], t) for params, bodies, t in made]
    return made


def _pad(params: dict[str, str]) -> str:
    unit = _PRECISION[params.get("precision", "")]
    return "".join(f"pad,n=p{k % 3} v={k}i {(_BASE_NS + k * 10**9) // unit}\n" for k in range(100))


_SHOW = ["SHOW MEASUREMENTS", "SHOW FIELD KEYS", "SHOW SERIES", "SHOW TAG KEYS"]


def _held(base: str, db: str, timed: bool, dropped: bool) -> list[Any]:
    """What a database holds: each measurement's points, its series, tags and fields.
    influxd keeps the series (so the tag keys) of points it drops when storing them (a
    field of another type): where it dropped some, its columns all null in SELECT * and
    SHOW SERIES and SHOW TAG KEYS are not compared."""
    answers = []
    names = http.get(f"{base}/query", params={"db": db, "q": "SHOW MEASUREMENTS"}).json()
    for series in names["results"][0].get("series", []):
        for (name,) in series["values"]:
            quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            q = f"SELECT * FROM {quoted}"
            got = http.get(f"{base}/query", params={"db": db, "q": q, "epoch": "ns"}).json()
            for s in got["results"][0].get("series", []):
                if not timed:  # (times of now: the servers' clocks differ)
                    s["columns"], s["values"] = s["columns"][1:], [r[1:] for r in s["values"]]
                # rows of one time come in an order influxd leaves undefined
                s["values"].sort(key=lambda row: (row[0] if timed else 0, json.dumps(row)))
                if dropped:
                    _without_empty_columns(s)
            answers.append(got)
    for q in _SHOW[:2] if dropped else _SHOW:
        answers.append(http.get(f"{base}/query", params={"db": db, "q": q}).json())
    return answers


def _without_empty_columns(series: dict[str, Any]) -> None:
    filled = [
        i
        for i, _ in enumerate(series["columns"])
        if any(r[i] is not None for r in series["values"])
    ]
    series["columns"] = [series["columns"][i] for i in filled]
    series["values"] = [[r[i] for i in filled] for r in series["values"]]


def difference(influxd: str, edge: str, db: str, case: Case) -> str | None:
    """Where the two servers first part over one case (written to a database ``db`` made
    and dropped on both), or None."""
    params, bodies, timed = case
    said: list[list[Any]] = []
    for base in (influxd, edge):
        http.post(f"{base}/query", data={"q": f"CREATE DATABASE {db}"})
        answers: list[Any] = []
        for body in bodies:
            w = http.post(f"{base}/write", params={"db": db, **params}, content=body)
            answers.append((w.status_code, w.text.strip()))
        said.append(answers)
    dropped = any("dropped=" in text and "dropped=0" not in text for _, text in said[0])
    for base, answers in zip((influxd, edge), said, strict=True):
        answers.append(_held(base, db, timed, dropped))
        http.post(f"{base}/query", data={"q": f"DROP DATABASE {db}"})
    (*theirs, held), (*ours, kept) = said
    if (400, '{"error":"field type conflict"}') in theirs:
        return None  # (fields of two types in one request: an allowed difference)
    return next(
        (f"write {a!r} vs {b!r}" for a, b in zip(theirs, ours, strict=True) if a != b), None
    ) or first_difference(held, kept)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--padded", action="store_true", help="bodies past 2 KiB: the columnar parser")
    args = p.parse_args(argv)
    differ = 0
    with side_by_side() as (influxd, edge):
        for i, case in enumerate(cases(args.seed, args.count, args.padded)):
            where = difference(influxd, edge.url, f"w{i}", case)
            if where is not None:
                differ += 1
                print(f"{case[0]} {case[1]!r}\n    {where}", flush=True)
    print(f"writes seed {args.seed}: {args.count} written, {differ} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
