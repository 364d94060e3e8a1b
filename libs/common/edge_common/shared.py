"""The buffer shared with the query workers: its chunks as Arrow IPC in files in memory
(tmpfs, ``/dev/shm``), mapped by the persister and by each query worker, and a state file
naming them.

DESIGN.md has a query worker ask the persister for the buffered rows of every query. That
costs a round trip to a third process and its wake-up on every query (the TSBS one-host hour
spent 0.5 ms of the persister's CPU and ~0.2 of the worker's on it, a quarter of the whole),
and it makes the persister's one loop, which also applies every write, do the reading for
all queries. Chunks never change once made (``edge_common.chunks``), so they can be shared
instead of sent. The persister writes each write record, as it came (its tables' batches are
Arrow IPC streams already), to a file and decodes the batches from the file mapped: its own
copy is then the shared one, the buffer is not held twice, and nothing is encoded again. A
chunk it makes itself (a join, a merge) is written once the same way. After each turn of its
loop, before it answers anything, it replaces the state file: per table its chunks (live and
being persisted: a file, and the offset and size of the chunk's stream in it) and whether
it holds repeats, the catalog's version, and the version of the persisted files' list (a
file of its own, written when it changes). A query worker reads the state file (again only
when it was replaced) and maps the files it names, once each.

Why this is safe:

- **Read-your-writes.** A write is answered once the persister has applied it; the
  persister now answers only after publishing the state that holds it.
- **One consistent view.** The state is replaced whole (a rename), and describes the buffer
  and the persisted files at one moment: a row is in a chunk or in a file of it, not both,
  not neither, as the persister's own answer was.
- **Files going away.** The persister deletes a chunk's file once no state names it; one a
  worker has mapped stays readable until it lets go (tmpfs frees it then). A worker that
  finds a named file already gone reads the newer state and starts again.
- **Anything else** (a table holding repeats not yet merged, no state, tmpfs full or
  missing): the worker asks the persister, as before. If a chunk cannot be written (tmpfs
  full), the persister stops sharing until it restarts and removes the state.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson
import pyarrow as pa

from edge_common.chunks import (
    Chunk,
    as_chunk,
    picked_of,
    picked_within,
    read_chunks,
    row_total,
    time_span,
)
from edge_common.picks import Pick, SeriesHasher
from edge_common.schema import TableSchema
from edge_common.settings import Settings
from edge_common.wire import ipc_bytes

__all__ = ["FileSpan", "SharedBuffer", "SharedReader", "SharedTable", "Stale", "shared_root"]

log = logging.getLogger(__name__)

_STATE = "state.json"
_OWNER = "owner"  # the persister's pid
_KEPT_FILE_LISTS = 4  # lists of persisted files kept: a worker reading an older one retries


def shared_root(settings: Settings) -> Path | None:
    """Where this data directory's buffer is shared, or ``None`` when it is not."""
    base = settings.buffer_share_dir
    if base in ("", "off") or not os.path.isdir(base):
        return None
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:16]
    return Path(base) / f"edge-{os.getuid()}-{digest}"


class FileSpan(NamedTuple):
    """A persisted file as a query worker finds it in the shared list."""

    path: str
    min_time_ns: int
    max_time_ns: int
    row_count: int = 0


class Stale(Exception):
    """A file the state named is gone: a newer state replaced it."""


# --- the persister's side -------------------------------------------------------------------
class Buffers(Protocol):
    """What the publisher needs of a ``TableBuffer``."""

    chunks: list[Chunk]
    frozen: list[Chunk]
    has_repeats: bool
    version: int


class SharedBuffer:
    """Publishes the persister's buffer (one per persister process, ``boot`` its id)."""

    def __init__(self, root: Path, boot: str) -> None:
        self.root = root
        self.boot = boot
        clear(root)  # what an earlier process left (a state naming its chunks, its files)
        _clear_orphans(root.parent)
        root.mkdir(mode=0o700)  # (taken already, by someone else: OSError, nothing shared)
        if not _ours(root):
            raise OSError(f"{root} is not a directory of this user's alone")
        self.dir = root / boot
        self.dir.mkdir(mode=0o700)
        _write(root / _OWNER, str(os.getpid()).encode())
        self.enabled = True
        self._named = 0
        # per table: (its buffer's id and version, the files it names, its entry)
        self._entries: dict[tuple[str, str], tuple[int, int, list[str], list[Any]]] = {}
        self._refs: dict[str, int] = {}  # per file: the entries naming it
        self._fresh: set[str] = set()  # files written since the last state (named, or not)
        self._unnamed: list[str] = []  # files no entry names any more
        self._catalog = -1
        self._files_version = -1
        self._file_lists: list[int] = []

    def record(self, payload: Any) -> tuple[str, memoryview] | None:
        """Write a write record (``edge_common.wire.WriteRecord``) as it came to a file of
        its own; returns its name and its bytes mapped, to decode the batches from (they
        are then the shared copy, in place: nothing is encoded again). ``None`` when not
        sharing."""
        if not self.enabled:
            return None
        name = self._new_name()
        self._fresh.add(name)
        try:
            _write(self.dir / name, payload, replace=False)
            return name, memoryview(_map(self.dir / name))
        except OSError as err:
            self._stop(err)
            return None

    def publish(
        self,
        buffers: Mapping[tuple[str, str], Buffers],
        catalog_version: int,
        files_version: int,
        files: Iterable[tuple[tuple[str, str], list[FileSpan]]],
    ) -> None:
        """Write the chunks not shared yet and a state naming every one; delete the files
        no state names now. ``files`` is read only when ``files_version`` changed."""
        if not self.enabled:
            return
        # a table's entry is made again only when its buffer changed: with 1,000 tables of
        # 5 chunks, making every entry each turn cost 6 ms a write, this way ~0.5
        entries = self._entries
        changed = catalog_version != self._catalog or files_version != self._files_version
        gone = entries.keys() - buffers.keys() if len(entries) != len(buffers) else set()
        try:
            if files_version != self._files_version:
                self._write_files(files_version, files)
            for key in gone:
                self._count(entries.pop(key)[2], -1)
                changed = True
            for key, buf in buffers.items():
                held = entries.get(key)
                if held is not None and held[0] == id(buf) and held[1] == buf.version:
                    continue
                live = [self._share(c) for c in buf.chunks]
                frozen = [self._share(c) for c in buf.frozen]
                names = [c[0] for c in (*live, *frozen)]
                self._count(names, +1)
                if held is not None:
                    self._count(held[2], -1)
                entries[key] = (id(buf), buf.version, names, [*key, buf.has_repeats, live, frozen])
                changed = True
            if not changed:
                return
            state = {
                "boot": self.boot,
                "catalog": catalog_version,
                "files": files_version,
                "tables": [e[3] for e in entries.values()],
            }
            _write(self.root / _STATE, orjson.dumps(state))
        except OSError as err:
            self._stop(err)
            return
        self._catalog = catalog_version
        unnamed = {n for n in (*self._fresh, *self._unnamed) if not self._refs.get(n)}
        self._fresh, self._unnamed = set(), []
        for name in unnamed:
            self._refs.pop(name, None)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.dir / name)

    def _count(self, names: list[str], step: int) -> None:
        """Count the entries naming each file; one no entry names goes (once the state no
        longer names it is written)."""
        refs = self._refs
        for name in names:
            refs[name] = refs.get(name, 0) + step
            if refs[name] == 0:
                self._unnamed.append(name)

    def close(self) -> None:
        """On a clean stop: no state outlives the process that wrote it."""
        clear(self.root)

    def _new_name(self) -> str:
        self._named += 1
        return str(self._named)

    def _share(self, chunk: Chunk) -> list[Any]:
        """The chunk as a state names it: [file, offset, size, min_ns, max_ns]."""
        if chunk.shared is None:  # (a join's, a merge's: made here, written once)
            name = self._new_name()
            self._fresh.add(name)
            data = ipc_bytes([chunk.batch], chunk.batch.schema)
            _write(self.dir / name, data, replace=False)
            region = _map(self.dir / name)
            # the shared copy becomes the buffer's own: the rows are held once
            chunk.batch, chunk._times = _batch_at(region, 0, len(data)), None
            chunk.shared = (name, 0, len(data))
        return [*chunk.shared, chunk.min_ns, chunk.max_ns]

    def _write_files(
        self, version: int, files: Iterable[tuple[tuple[str, str], list[FileSpan]]]
    ) -> None:
        listed = [[db, table, [list(f) for f in spans]] for (db, table), spans in files]
        _write(self.root / f"files-{version}.json", orjson.dumps(listed))
        self._files_version = version
        self._file_lists.append(version)
        while len(self._file_lists) > _KEPT_FILE_LISTS:
            old = self._file_lists.pop(0)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / f"files-{old}.json")

    def _stop(self, err: OSError) -> None:
        log.warning(
            "stopped sharing the buffer with the query workers (%s): they ask for its rows "
            "again; give --buffer-share-dir more room (a container's /dev/shm is often "
            "64 MiB) and restart",
            err,
        )
        self.enabled = False
        clear(self.root)  # no state: the workers ask; chunks mapped here stay readable


def clear(root: Path) -> None:
    """Remove a shared buffer's state and files (mapped chunks stay readable); only from a
    directory of this user's alone (a name in tmpfs can be anyone's)."""
    if not _ours(root):
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(root / _STATE)  # first: no worker starts on a state being removed
    shutil.rmtree(root, ignore_errors=True)


def _ours(path: Path) -> bool:
    """Whether ``path`` is a directory (not a link) of this user's that no one else may
    write in: tmpfs is every user's, and its names can be taken first by anyone."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _clear_orphans(base: Path) -> None:
    """Remove the shared buffers of persisters killed and never started again (their data
    directory gone, say): tmpfs holds them in memory until then."""
    for root in base.glob(f"edge-{os.getuid()}-*"):
        try:
            pid = int((root / _OWNER).read_text())
        except (OSError, ValueError):
            continue  # (being made, or not ours)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            clear(root)
        except PermissionError:
            pass  # alive: another user's process


def _write(path: Path, data: Any, replace: bool = True) -> None:
    """Write ``data`` to ``path`` whole; with ``replace``, by renaming a full copy over it."""
    target = path.with_name(path.name + ".new") if replace else path
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    if replace:
        os.replace(target, path)


def _map(path: Path) -> pa.Buffer:
    """A file's bytes, mapped (the mapping lives as long as a buffer made of it does: the
    descriptor is closed at once)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        region = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
    finally:
        os.close(fd)
    return pa.py_buffer(region)


def _batch_at(region: pa.Buffer, offset: int, size: int) -> pa.RecordBatch:
    """The one batch of the Arrow IPC stream at ``offset``, read in place."""
    return pa.ipc.open_stream(region.slice(offset, size)).read_next_batch()


# --- a query worker's side ------------------------------------------------------------------
@dataclass(slots=True)
class SharedTable:
    """A table's shared chunks, read as the persister reads its own (``fetch.Buffered``)."""

    live: list[Chunk]
    frozen: list[Chunk]
    hasher: SeriesHasher
    # the picks over all of the live or the frozen chunks, kept while they stay the same
    picks: dict[Any, Chunk]

    def time_range(self, frozen: bool = False) -> tuple[int, int] | None:
        return time_span(self.frozen if frozen else self.live)

    def row_count(self, frozen: bool = False) -> int:
        return row_total(self.frozen if frozen else self.live)

    def read(
        self,
        schema: TableSchema,
        columns: list[str] | None = None,
        min_ns: int | None = None,
        max_ns: int | None = None,
        values: dict[str, list[str]] | None = None,
        compare: list[tuple[str, str, object]] | None = None,
        pick: Pick | None = None,
        *,
        frozen: bool = False,
    ) -> list[pa.RecordBatch]:
        target = schema.arrow_schema(list(schema.columns) if columns is None else columns)
        chunks = self.frozen if frozen else self.live
        if pick is not None and chunks:
            chunks = [self._picked(chunks, schema, pick, min_ns, max_ns, values, target.names)]
        return read_chunks(chunks, target, min_ns, max_ns, values, compare)

    def _picked(
        self,
        chunks: list[Chunk],
        schema: TableSchema,
        pick: Pick,
        lo: int | None,
        hi: int | None,
        values: dict[str, list[str]] | None,
        names: list[str],
    ) -> Chunk:
        """The rows ``pick`` keeps of ``chunks`` as one chunk (as the persister's
        ``TableBuffer._picked``): over all of them from each chunk's picks (kept with it,
        made once), else of the rows in the time range afresh (of columns ``names``)."""
        span = time_span(chunks)
        assert span is not None
        first, last = span
        full, tags = schema.arrow_schema(), schema.tag_names
        if (lo is not None and lo > first) or (hi is not None and hi < last):
            picked = picked_within(chunks, full, tags, pick, self.hasher, lo, hi, values, names)
            return as_chunk(picked, first, last)
        key = (pick, full, tuple(c.shared for c in chunks))
        held = self.picks.get(key)
        if held is None:
            held = as_chunk(picked_of(chunks, full, tags, pick, self.hasher), first, last)
            self.picks[key] = held
        return held


@dataclass(slots=True)
class State:
    boot: str
    catalog: int
    files: int
    # (db, table) → (repeats, live chunks, frozen chunks), each [file, offset, size, min, max]
    tables: dict[tuple[str, str], tuple[bool, list[list[Any]], list[list[Any]]]]


class SharedReader:
    """A query worker's view of the shared buffer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._state_path = str(root / _STATE)  # (stat'ed by every query: made once)
        self._seen: tuple[int, int, int] | None = None  # the state file's (inode, size, mtime)
        self._state: State | None = None
        self._regions: dict[tuple[str, str], pa.Buffer] = {}  # (boot, file) → its bytes
        self._chunks: dict[tuple[str, str, int], Chunk] = {}  # (boot, file, offset) → chunk
        self._hasher = SeriesHasher()
        # picks over a table's chunks (SharedTable._picked), for the newest state only: each
        # chunk keeps its own, so they are made again from few rows after a change
        self._picks: dict[Any, Chunk] = {}
        self._files: tuple[int, dict[tuple[str, str], list[FileSpan]]] | None = None
        # a table's chunks as the newest state names them, made once per state (a query
        # looked up each of a table's chunks again: ~3 µs of a ~120 µs question)
        self._tables: dict[tuple[str, str], tuple[State, SharedTable | None]] = {}

    def state(self) -> State | None:
        """The newest state, or ``None`` when nothing is shared (ask the persister)."""
        try:
            st = os.stat(self._state_path)
            seen = (st.st_ino, st.st_size, st.st_mtime_ns)
            if seen != self._seen:
                if not _ours(self.root):  # (a state someone else put there: not read)
                    raise FileNotFoundError(self.root)
                raw = orjson.loads((self.root / _STATE).read_bytes())
                tables = {(db, t): (rep, live, fro) for db, t, rep, live, fro in raw["tables"]}
                self._state = State(raw["boot"], raw["catalog"], raw["files"], tables)
                self._seen = seen
                self._forget()
        except FileNotFoundError:
            self._seen = self._state = None
            self._forget()
        return self._state

    def table(self, state: State, db: str, table: str) -> SharedTable | None:
        """A table's chunks as ``state`` names them; ``None``: no rows buffered. Raises
        :class:`Stale` when a file is gone; ``LookupError`` when it holds repeats."""
        kept = self._tables.get((db, table))
        if kept is not None and kept[0] is state:
            return kept[1]
        entry = state.tables.get((db, table))
        if entry is None:
            return None
        repeats, live, frozen = entry
        if repeats:
            raise LookupError("repeats not merged yet: the persister merges them")
        found = SharedTable(
            [self._chunk(state.boot, *c) for c in live],
            [self._chunk(state.boot, *c) for c in frozen],
            self._hasher,
            self._picks,
        )
        self._tables[(db, table)] = (state, found)
        return found

    def files(self, state: State, db: str, table: str) -> list[FileSpan]:
        """The persisted files of a table, in the order the persister lists them."""
        if self._files is None or self._files[0] != state.files:
            try:
                raw = orjson.loads((self.root / f"files-{state.files}.json").read_bytes())
            except FileNotFoundError:
                raise Stale(f"files-{state.files}") from None
            listed = {(d, t): [FileSpan(*f) for f in spans] for d, t, spans in raw}
            self._files = (state.files, listed)
        return self._files[1].get((db, table), [])

    def _chunk(self, boot: str, file: str, offset: int, size: int, lo: int, hi: int) -> Chunk:
        chunk = self._chunks.get((boot, file, offset))
        if chunk is None:
            region = self._regions.get((boot, file))
            if region is None:
                try:
                    region = self._regions[(boot, file)] = _map(self.root / boot / file)
                except FileNotFoundError:
                    raise Stale(file) from None
            batch = _batch_at(region, offset, size)
            chunk = Chunk(batch, lo, hi, 0.0, shared=(file, offset, size))
            self._chunks[(boot, file, offset)] = chunk
        return chunk

    def _forget(self) -> None:
        """Let go of the files the newest state no longer names (tmpfs frees them)."""
        self._picks.clear()
        self._tables.clear()
        state = self._state
        named: set[tuple[str, str]] = set()
        if state is not None:
            for _, live, frozen in state.tables.values():
                named.update((state.boot, c[0]) for c in (*live, *frozen))
        for file in [k for k in self._regions if k not in named]:
            del self._regions[file]
        for chunk in [k for k in self._chunks if k[:2] not in named]:
            del self._chunks[chunk]
