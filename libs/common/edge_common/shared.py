"""The buffer shared with the query workers: its chunks as Arrow files in memory (tmpfs,
``/dev/shm``), mapped by the persister and by each query worker, and a state file naming
them.

DESIGN.md has a query worker ask the persister for the buffered rows of every query. That
costs a round trip to a third process and its wake-up on every query (the TSBS one-host hour
spent 0.5 ms of the persister's CPU and ~0.2 of the worker's on it, a quarter of the whole),
and it makes the persister's one loop, which also applies every write, do the reading for
all queries. Chunks never change once made (``edge_common.chunks``), so they can be shared
instead of sent: the persister writes each new chunk once to a file and maps it back (its
own copy is then the shared one: the buffer is not held twice), and after each turn of its
loop, before it answers anything, it replaces the state file: per table its chunks (live and
being persisted) and whether it holds repeats, the catalog's version, and the version of the
persisted files' list (a file of its own, written when it changes). A query worker reads the
state file (again only when it was replaced) and maps the chunks it names, once each.

Why this is safe:

- **Read-your-writes.** A write is answered once the persister has applied it; the
  persister now answers only after publishing the state that holds it.
- **One consistent view.** The state is replaced whole (a rename), and describes the buffer
  and the persisted files at one moment: a row is in a chunk or in a file of it, not both,
  not neither, as the persister's own answer was.
- **Files going away.** The persister deletes a chunk's file once no state names it; one a
  worker has mapped stays readable until it lets go (tmpfs frees it then). A worker that
  finds a named file already gone reads the newer state and starts again.
- **Anything else** (a table holding repeats not yet merged, a first()/last() pick, which
  the persister keeps answers of, no state, tmpfs full or missing): the worker asks the
  persister, as before. If a chunk cannot be written (tmpfs full), the persister stops
  sharing until it restarts and removes the state.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson
import pyarrow as pa

from edge_common.chunks import Chunk, read_chunks
from edge_common.picks import Pick
from edge_common.schema import TableSchema
from edge_common.settings import Settings

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
        self.dir = root / boot
        self.dir.mkdir(parents=True, mode=0o700)
        (root / _OWNER).write_text(str(os.getpid()))
        self.enabled = True
        self._named = 0
        self._shared: set[str] = set()  # chunk files the last state named
        self._signature: Any = None
        self._files_version = -1
        self._file_lists: list[int] = []

    def publish(
        self,
        buffers: Mapping[tuple[str, str], Buffers],
        catalog_version: int,
        files_version: int,
        files: Iterable[tuple[tuple[str, str], list[FileSpan]]],
    ) -> None:
        """Write the chunks not shared yet and a state naming every one; delete those no
        state names now. ``files`` is read only when ``files_version`` changed."""
        if not self.enabled:
            return
        signature = (
            catalog_version,
            files_version,
            [(key, id(buf), buf.version) for key, buf in buffers.items()],
        )
        if signature == self._signature:
            return
        try:
            if files_version != self._files_version:
                self._write_files(files_version, files)
            tables: list[Any] = []
            named: set[str] = set()
            for (db, table), buf in buffers.items():
                live = [self._share(c) for c in buf.chunks]
                frozen = [self._share(c) for c in buf.frozen]
                named.update(c[0] for c in live)
                named.update(c[0] for c in frozen)
                tables.append([db, table, buf.has_repeats, live, frozen])
            state = {
                "boot": self.boot,
                "catalog": catalog_version,
                "files": files_version,
                "tables": tables,
            }
            _write(self.root / _STATE, orjson.dumps(state))
        except OSError as err:
            self._stop(err)
            return
        for name in self._shared - named:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.dir / name)
        self._shared, self._signature = named, signature

    def close(self) -> None:
        """On a clean stop: no state outlives the process that wrote it."""
        clear(self.root)

    def _share(self, chunk: Chunk) -> tuple[str, int, int]:
        if chunk.name is None:
            name = f"{self._named}.arrow"
            self._named += 1
            path = self.dir / name
            sink = pa.BufferOutputStream()
            with pa.ipc.new_file(sink, chunk.batch.schema) as writer:
                writer.write_batch(chunk.batch)
            _write(path, sink.getvalue(), replace=False)
            # the shared copy becomes the buffer's own: the rows are held once
            chunk.batch, chunk._times = _mapped(path), None
            chunk.name = name
        return chunk.name, chunk.min_ns, chunk.max_ns

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
    """Remove a shared buffer's state and files (mapped chunks stay readable)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(root / _STATE)  # first: no worker starts on a state being removed
    shutil.rmtree(root, ignore_errors=True)


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


def _mapped(path: Path) -> pa.RecordBatch:
    """The one batch of an Arrow file, read in place from its memory map (which lives as
    long as the batch: the descriptor is closed at once)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        region = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
    finally:
        os.close(fd)
    return pa.ipc.open_file(pa.py_buffer(region)).get_batch(0)


# --- a query worker's side ------------------------------------------------------------------
@dataclass(slots=True)
class SharedTable:
    """A table's shared chunks, read as the persister reads its own (``fetch.Buffered``)."""

    live: list[Chunk]
    frozen: list[Chunk]

    def time_range(self, frozen: bool = False) -> tuple[int, int] | None:
        chunks = self.frozen if frozen else self.live
        if not chunks:
            return None
        return min(c.min_ns for c in chunks), max(c.max_ns for c in chunks)

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
        assert pick is None, "picks are the persister's (it keeps them)"
        target = schema.arrow_schema(list(schema.columns) if columns is None else columns)
        chunks = self.frozen if frozen else self.live
        return read_chunks(chunks, target, min_ns, max_ns, values, compare)


@dataclass(slots=True)
class State:
    boot: str
    catalog: int
    files: int
    # (db, table) → (repeats, live chunks, frozen chunks), each chunk (name, min, max)
    tables: dict[tuple[str, str], tuple[bool, list[list[Any]], list[list[Any]]]]


class SharedReader:
    """A query worker's view of the shared buffer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: tuple[int, int, int] | None = None  # the state file's (inode, size, mtime)
        self._state: State | None = None
        self._chunks: dict[tuple[str, str], Chunk] = {}  # (boot, name) → its chunk, mapped
        self._files: tuple[int, dict[tuple[str, str], list[FileSpan]]] | None = None

    def state(self) -> State | None:
        """The newest state, or ``None`` when nothing is shared (ask the persister)."""
        try:
            st = os.stat(self.root / _STATE)
            seen = (st.st_ino, st.st_size, st.st_mtime_ns)
            if seen != self._seen:
                raw = orjson.loads((self.root / _STATE).read_bytes())
                tables = {(db, t): (rep, live, fro) for db, t, rep, live, fro in raw["tables"]}
                self._state = State(raw["boot"], raw["catalog"], raw["files"], tables)
                self._seen = seen
                self._forget()
        except FileNotFoundError:
            self._seen = self._state = None
            self._chunks.clear()
        return self._state

    def table(self, state: State, db: str, table: str) -> SharedTable | None:
        """A table's chunks as ``state`` names them; ``None``: no rows buffered. Raises
        :class:`Stale` when a file is gone; ``LookupError`` when it holds repeats."""
        entry = state.tables.get((db, table))
        if entry is None:
            return None
        repeats, live, frozen = entry
        if repeats:
            raise LookupError("repeats not merged yet: the persister merges them")
        return SharedTable(
            [self._chunk(state.boot, *c) for c in live],
            [self._chunk(state.boot, *c) for c in frozen],
        )

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

    def _chunk(self, boot: str, name: str, min_ns: int, max_ns: int) -> Chunk:
        chunk = self._chunks.get((boot, name))
        if chunk is None:
            try:
                batch = _mapped(self.root / boot / name)
            except FileNotFoundError:
                raise Stale(name) from None
            chunk = self._chunks[(boot, name)] = Chunk(batch, min_ns, max_ns, 0.0, name=name)
        return chunk

    def _forget(self) -> None:
        """Let go of the chunks the newest state no longer names (tmpfs frees them)."""
        state = self._state
        if state is None:
            self._chunks.clear()
            return
        named = {
            (state.boot, c[0])
            for _, live, frozen in state.tables.values()
            for c in (*live, *frozen)
        }
        for key in [k for k in self._chunks if k not in named]:
            del self._chunks[key]
