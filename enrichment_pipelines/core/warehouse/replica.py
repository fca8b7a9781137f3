"""Reads served from memory, for a process that answers many small reads (`enrich serve`).

Opening the warehouse file for every request costs milliseconds, and while a run writes,
DuckDB's file lock makes every reader wait its turn: a server reading the file directly answers
slowly exactly when a batch is running. So the server reads an in-memory copy of the warehouse
(`Warehouse.copy_in_memory`), taken again once the file has changed:

- `staleness_seconds` 0: a read that finds the file changed takes a new copy first (waiting, as
  a direct read would, while a run writes). Reads are always current.
- above 0 (the server's default): a background thread takes a new copy at most that often, and
  less often when copying takes long (copying stays under a fifth of one core). Reads never wait
  on the file; what they see is at most that interval plus one copy's time behind.

A process's own writes call `wrote()` before they answer, which takes a new copy and tells the
other processes serving the same warehouse (`enrich serve --workers`) through a marker file
beside it: their next read takes a new copy first. So a user reads what they just wrote,
whichever process answers. Only the tables and views the process reads are copied (not, say,
the crawl caches' page text, most of the file). The copy lives in this process's memory only,
and a forget reaches it at the next copy.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from enrichment_pipelines.core.warehouse import Warehouse

T = TypeVar("T")

log = logging.getLogger(__name__)

# Copying may take at most this share of the time between copies.
_COPYING_SHARE = 0.2
# A copy is taken again after this long even when the file looks unchanged (a file's times
# have a granularity of milliseconds; two writes within one tick could look like one).
_RECOPY_AFTER_SECONDS = 60.0

# Results kept per copy at most (a caller could otherwise fill memory with keys: a stream of
# unknown tokens, say); past it, a keyed read is simply run again.
_REMEMBERED_PER_COPY = 4096

# Keys read again on a fresh copy before it serves (see `_rewarm`).
_REWARMED_PER_COPY = 64

Signature = tuple[tuple[int, int, int] | None, ...]


def file_signature(path: Path) -> Signature:
    """What changes when DuckDB writes the file: its and its write-ahead log's identity, size
    and modification time."""
    parts: list[tuple[int, int, int] | None] = []
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            stat = file.stat()
        except FileNotFoundError:
            parts.append(None)
        else:
            parts.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(parts)


Query = Callable[[duckdb.DuckDBPyConnection], Any]


@dataclass
class _Copy:
    database: duckdb.DuckDBPyConnection
    remembered: dict[Hashable, object] = field(default_factory=dict)  # keyed reads' results
    queries: dict[Hashable, Query] = field(default_factory=dict)  # and what read them
    hits: Counter[Hashable] = field(default_factory=Counter)

    def run(self, query: Query) -> Any:
        cursor = self.database.cursor()  # keeps the database alive when a newer copy comes
        try:
            return query(cursor)
        finally:
            cursor.close()

    def remember(self, key: Hashable, query: Query, result: object) -> None:
        if len(self.remembered) < _REMEMBERED_PER_COPY:
            self.remembered[key], self.queries[key] = result, query


class ReadReplica:
    """An in-memory copy of `tables` (tables and views) of `warehouse` that reads query (see
    the module docstring)."""

    def __init__(
        self, warehouse: Warehouse, *, tables: Collection[str], staleness_seconds: float
    ) -> None:
        self.warehouse = warehouse
        self.tables = tuple(tables)
        self.staleness_seconds = staleness_seconds
        self.writes_marker = warehouse.path.with_name(warehouse.path.name + ".served-writes")
        self._copy: _Copy | None = None
        self._copied_signature: Signature | None = None
        self._copied_writes: str | None = None
        self._copied_at = 0.0
        self._copy_seconds = 0.0
        self._copying = threading.Lock()
        self._stopping = threading.Event()
        self._refresher: threading.Thread | None = None

    def read(
        self, query: Callable[[duckdb.DuckDBPyConnection], T], *, key: Hashable | None = None
    ) -> T:
        """`query` on a cursor of the current copy (taken first if there is none yet, or, with
        no staleness allowed, if the file has changed). With a `key`, the result is kept with
        the copy: the same key is answered from memory until the next copy (for reads many
        requests repeat: the caller's token, the workspace's figures). A keyed `query` must read
        everything it depends on from the connection it is given: it may be run again on the
        next copy (see `_rewarm`)."""
        if self._copy is None or self.staleness_seconds == 0 or self._behind_a_served_write():
            self.refresh()
        else:
            self._start_refresher()
        copy = self._copy  # this read's, whatever copy replaces it meanwhile
        assert copy is not None
        if key is None:
            return copy.run(query)  # type: ignore[no-any-return]  # what `query` returns
        copy.hits[key] += 1
        if key in copy.remembered:
            return copy.remembered[key]  # type: ignore[return-value]  # stored by this `query`
        result = copy.run(query)
        copy.remember(key, query, result)
        return result  # type: ignore[no-any-return]

    def remembered(self, key: Hashable) -> tuple[bool, Any]:
        """(True, result) of a keyed read kept with the current copy, else (False, None);
        never (False) with no staleness allowed, where a read may first take a new copy.
        Never blocks, so that an event loop may ask before sending the read to a thread."""
        copy = self._copy
        if copy is None or self.staleness_seconds == 0 or key not in copy.remembered:
            return False, None
        if self._behind_a_served_write():
            return False, None
        copy.hits[key] += 1
        return True, copy.remembered[key]

    def wrote(self) -> None:
        """Say that this process has written to the warehouse: a new copy is taken now, and
        every other process serving it takes one before its next read."""
        mark = secrets.token_hex(8)
        # A file of this call's own (threads of one process write at once), then renamed.
        staged = self.writes_marker.with_name(f"{self.writes_marker.name}.{mark}")
        staged.write_text(mark, encoding="ascii")
        os.replace(staged, self.writes_marker)  # readers see the old mark or the new, whole
        self.refresh()

    def refresh(self) -> None:
        """Take a new copy now if the file has changed since the last one."""
        with self._copying:
            # Read before copying: a write landing meanwhile makes the next read copy again.
            writes = _served_writes(self.writes_marker)
            signature = file_signature(self.warehouse.path)
            fresh_enough = time.monotonic() - self._copied_at < _RECOPY_AFTER_SECONDS
            unchanged = signature == self._copied_signature and writes == self._copied_writes
            if self._copy is not None and unchanged and fresh_enough:
                return
            started = time.monotonic()
            fresh = _Copy(self.warehouse.copy_in_memory(self.tables))
            if self._copy is not None:
                _rewarm(fresh, self._copy)
            self._copy = fresh
            self._copied_signature, self._copied_writes = signature, writes
            self._copied_at = time.monotonic()
            self._copy_seconds = self._copied_at - started

    def close(self) -> None:
        """Stop the background refresher (the copy goes once its last reader is done)."""
        self._stopping.set()
        if self._refresher is not None:
            self._refresher.join()

    def _behind_a_served_write(self) -> bool:
        """Whether a process serving this warehouse wrote to it after this copy was taken (a
        read of a few bytes: cheap next to any request)."""
        return _served_writes(self.writes_marker) != self._copied_writes

    def _start_refresher(self) -> None:
        if self._refresher is not None:
            return
        with self._copying:
            if self._refresher is None:
                self._refresher = threading.Thread(
                    target=self._refresh_until_stopped, name="warehouse-replica", daemon=True
                )
                self._refresher.start()

    def _refresh_until_stopped(self) -> None:
        while not self._stopping.wait(
            max(self.staleness_seconds, self._copy_seconds / _COPYING_SHARE)
        ):
            try:
                self.refresh()
            except Exception:  # the reads go on from the copy they have; the next turn retries
                log.exception("could not copy the warehouse %s for reading", self.warehouse.path)


def _served_writes(marker: Path) -> str | None:
    """The mark of the latest write a serving process made (`ReadReplica.wrote`), if any."""
    try:
        return marker.read_text(encoding="ascii")
    except FileNotFoundError:
        return None


def _rewarm(fresh: _Copy, previous: _Copy) -> None:
    """Read the previous copy's most asked keys on the fresh one before it is swapped in: else
    every request at once would miss them (the caller's token, first of all) and queue behind
    each other's reads."""
    hits = dict.copy(previous.hits)  # at once: readers go on counting meanwhile
    for key in sorted(hits, key=hits.__getitem__, reverse=True)[:_REWARMED_PER_COPY]:
        query = previous.queries.get(key)
        if query is None:
            continue
        try:
            fresh.remember(key, query, fresh.run(query))
        except Exception:  # the request itself will run it again, and answer
            continue
