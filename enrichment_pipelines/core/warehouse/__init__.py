"""The DuckDB warehouse: connections, versioned migrations and generated views.

DuckDB lets one process write a database file at a time, and a process holding the file open
for writing locks out every other process, readers included. So connections here are opened for
one short unit of work and closed at once, and opening waits (with backoff) while another
process holds the lock instead of failing. Slow work (HTTP, extraction) never runs while a
connection is open.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb

from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.warehouse.views import quote_identifier, refresh_customer_360

T = TypeVar("T")

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

# The storage format of the analytics copy, which other tools open: the DuckDB CLI of the stable
# 1.5 line that `make install` puts into .venv/bin, Python's duckdb, and tools that embed an
# older DuckDB (DBeaver's driver, notebooks). duckdb 2.x writes format 69 by default, which no
# 1.x reader opens. v1.1.0 (format 64) writes every type the copy holds (JSON, TIMESTAMPTZ;
# lists in customer_360) and its views; DuckDB 1.1 and later read it, and the CLI that `make
# install` brings is tested on it. Newer formats only add compression (without it the copy is a
# few per cent larger). The copy has no key constraints (see `publish_snapshot`).
ANALYTICS_STORAGE_VERSION = "v1.1.0"


# DuckDB's cache of the file's blocks, at most. Unbounded (its default is 80 % of the RAM),
# copying the warehouse for analysts held every block it read: 2.2 GiB of memory for a
# 345 MiB file, growing with the number of customers; bounded, DuckDB evicts or spills to
# `warehouse.duckdb.tmp` and the same copy peaks at 370 MiB. The writes of a run are small.
# Only compaction, which builds every key's index of the file anew, lifts it (`compact`).
# Whole-table work needs it: at 1,000,000 customers counting `customer_360` fails under 128 MB.
MEMORY_LIMIT = "256MB"
# A run's write round (a few dozen sites' rows) needs little, but the checkpoint as it closes
# the file fills whatever it is allowed: at 10,000 customers a round now and then took
# 200 MiB for a moment under `MEMORY_LIMIT`, 135 under this, in the same time; a round's
# inserts into a warehouse of 1,000,000 customers' values (20,000,000 rows) pass under it.
ROUND_MEMORY_LIMIT = "128MB"
# The analysts' copy reads every block once and keeps none: a smaller cache only evicts
# sooner. Measured at 10,000 customers: 233 MiB more memory under `MEMORY_LIMIT`, 115 under
# this, 0.6 s slower; the copy has no keys, so it needs no more as the warehouse grows.
COPY_MEMORY_LIMIT = "64MB"


class WarehouseError(EnrichError, RuntimeError):
    """A warehouse problem a person must act on (lock held too long, schema too new...)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    folder = resources.files("enrichment_pipelines.core.warehouse") / "migrations"
    migrations = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            migrations.append(
                Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8"))
            )
    return sorted(migrations, key=lambda migration: migration.version)


def insert_rows(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    conflict: str = "",
) -> None:
    """Insert many rows into the named `columns` with one statement, each column bound as one
    list parameter and unnested.

    DuckDB's cost is per statement and per bound parameter: `executemany` runs a statement
    per row, and a multi-row VALUES list binds a parameter per cell (about 15 times slower
    than this for a batch of records). Naming the columns keeps an insert right when a
    migration adds or reorders columns, and a row of the wrong width is refused here, naming
    the table, rather than landing values in the wrong columns. `table`, `columns` and
    `conflict` come from code, never from users; values are always bound as parameters.
    """
    if not columns:
        raise ValueError(f"insert into {table}: no columns named")
    width = len(columns)
    for number, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"insert into {table}: row {number} has {len(row)} values for {width} columns "
                f"({', '.join(columns)})"
            )
    if not rows:
        return
    column_list = ", ".join(columns)
    unnested = ", ".join(f"unnest(?) AS {column}" for column in columns)
    connection.execute(
        f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM (SELECT {unnested}) "
        f"{conflict}".rstrip(),
        [list(values) for values in zip(*rows, strict=True)],
    )


def fetch_dicts(
    connection: duckdb.DuckDBPyConnection, sql: str, parameters: object = None
) -> list[dict[str, object]]:
    """The query's rows, each keyed by column name: read by name, a row cannot be misread
    when the SELECT list changes."""
    cursor = connection.execute(sql, parameters)
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _is_lock_conflict(error: duckdb.Error) -> bool:
    return "Could not set lock" in str(error) or "Conflicting lock" in str(error)


# Tables the analysts' copy leaves out: who may use the API is not analysts' data.
NOT_FOR_ANALYSTS = ("users",)
# Columns it leaves out: a page's raw document (`assets`: its head, scripts and the document
# itself, capped) is the crawl's cache, kept so that pages can be read again without fetching
# them; nothing to query, and over half of the copy's bytes and time.
COLUMNS_NOT_FOR_ANALYSTS = {"scraped_pages": ("assets",)}


class _ModeGate:
    """Within one process DuckDB opens a file either read-only or read-write, never both at
    once ("different configuration than existing connections"), and does not wait: threads of
    one process (the API server's requests, a one-off enrichment) take turns here instead.
    Connections of the same mode share the file; a writer waiting goes before new readers."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._mode: bool | None = None  # read_only of the connections open now
        self._open = 0
        self._writers_waiting = 0

    @contextmanager
    def enter(self, *, read_only: bool) -> Iterator[None]:
        with self._changed:
            self._writers_waiting += not read_only
            try:
                self._changed.wait_for(
                    lambda: (
                        self._open == 0
                        or (
                            self._mode == read_only and (not read_only or not self._writers_waiting)
                        )
                    )
                )
            finally:
                self._writers_waiting -= not read_only
            self._mode = read_only
            self._open += 1
        try:
            yield
        finally:
            with self._changed:
                self._open -= 1
                self._changed.notify_all()


_GATES: dict[Path, _ModeGate] = {}
_GATES_LOCK = threading.Lock()


def _gate(path: Path) -> _ModeGate:
    with _GATES_LOCK:
        return _GATES.setdefault(path.resolve(), _ModeGate())


# Files whose schema this process has brought up to date (or found current): migrations run
# once per process, at the first write, never on a read.
_SCHEMA_CURRENT: set[Path] = set()


class Warehouse:
    """One DuckDB file. Cheap to create; holds no connection between calls.

    Opening for writing brings the schema up to date once per process; opening read-only
    never takes the write lock, so readers (sensor ticks, status, reports) never block a run.
    """

    def __init__(self, path: Path | str, *, lock_timeout_seconds: float = 120.0) -> None:
        self.path = Path(path)
        self.lock_timeout_seconds = lock_timeout_seconds

    @contextmanager
    def _open(
        self, *, read_only: bool, limit: str | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, waiting for this process's other threads (see `_ModeGate`), and with
        backoff while another process holds the file."""
        with (
            _gate(self.path).enter(read_only=read_only),
            self._open_file(read_only=read_only, limit=limit) as connection,
        ):
            yield connection

    @contextmanager
    def _open_file(
        self, *, read_only: bool, limit: str | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        connection = self._while_locked(lambda: duckdb.connect(str(self.path), read_only=read_only))
        try:
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute(f"SET memory_limit = '{limit or MEMORY_LIMIT}'")
            yield connection
        finally:
            connection.close()

    def _while_locked(self, attempt: Callable[[], T]) -> T:
        """`attempt` (which opens the file), again with backoff while another process holds
        the file, for up to the lock timeout."""
        deadline = time.monotonic() + self.lock_timeout_seconds
        delay = 0.02
        while True:
            try:
                return attempt()
            except duckdb.IOException as error:
                if not _is_lock_conflict(error) or time.monotonic() > deadline:
                    if _is_lock_conflict(error):
                        raise WarehouseError(
                            f"warehouse {self.path} stayed locked by another process for "
                            f"{self.lock_timeout_seconds:.0f}s: {error}"
                        ) from error
                    raise
                time.sleep(delay * (1 + random.random()))
                # Capped low: a run's crawl waits on its writer, and several runs' writers
                # take turns many times a second (a 1 s cap cost a backfill 8 %).
                delay = min(delay * 2, 0.25)

    @contextmanager
    def connect(
        self, *, read_only: bool = False, limit: str | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one short unit of work, waiting while another process writes;
        `limit` is DuckDB's memory limit for it (by default `MEMORY_LIMIT`)."""
        key = self.path.resolve()
        if read_only:
            if not self.path.exists():
                raise WarehouseError(f"no warehouse at {self.path}: import customers or run first")
            with self._open(read_only=True) as connection:
                if key not in _SCHEMA_CURRENT:
                    self._refuse_outdated(connection)
                yield connection
            return
        new_file = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._open(read_only=False, limit=limit) as connection:
            if new_file or key not in _SCHEMA_CURRENT:
                self._migrate(connection)
            yield connection

    @contextmanager
    def transaction(self, *, limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction: everything inside is committed together or not at all."""
        with self.connect(limit=limit) as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def publish_snapshot(self, target: Path) -> Path:
        """Publish a consistent read-only copy for analysts, who then never wait on a run.

        The copy is rebuilt from the live rows (not a copy of the file, whose free blocks may
        still hold deleted rows) while this process holds the warehouse, and swapped in
        atomically: readers of the old copy keep their view. It is written in the older
        storage format `ANALYTICS_STORAGE_VERSION`, so that the DuckDB CLI and other tools
        embedding an older DuckDB open it. The users' token hashes and the pages' raw documents
        stay out of it (`NOT_FOR_ANALYSTS`, `COLUMNS_NOT_FOR_ANALYSTS`).

        Its tables have no key constraints: DuckDB builds a key's index in memory, so a copy
        with keys needs memory growing with the rows (past the warehouse's `MEMORY_LIMIT` at
        about 40,000 customers), while one without stays within it at any size. Nothing
        writes a read-only copy, so its keys would guard nothing. It is made under the smaller
        `COPY_MEMORY_LIMIT`, since it follows the checks and the report in a run's process.
        """
        partial = target.with_name(target.name + ".partial")
        with (
            self.connect() as connection,
            memory_limit(connection, COPY_MEMORY_LIMIT),
            _new_database(connection, partial, ANALYTICS_STORAGE_VERSION) as copy,
        ):
            _copy_rows_and_views(connection, copy)
        os.replace(partial, target)
        return target

    def copy_in_memory(self, tables: Collection[str]) -> duckdb.DuckDBPyConnection:
        """A copy of the named tables and views in a new in-memory database, for a process
        that serves many small reads (`enrich serve`): it queries the copy, open as long as it
        likes, while runs write the file. Tables keep their keys (so their indexes); views
        become tables of their rows, since nothing in the copy changes (a read of a view that
        ranks every enrichment then looks rows up instead). The schema's version comes along.
        Cursors of the returned connection stay usable after it is dropped: do not close it
        under them."""
        if not self.path.exists():
            raise WarehouseError(f"no warehouse at {self.path}: import customers or run first")
        copy = duckdb.connect(":memory:")
        copy.execute("SET GLOBAL TimeZone = 'UTC'")
        # Reads here are many small queries at once, each fastest on one thread.
        copy.execute("SET GLOBAL threads = 1")
        literal = "'" + str(self.path).replace("'", "''") + "'"
        wanted = {*tables, "schema_migrations"}
        with _gate(self.path).enter(read_only=True):
            self._while_locked(lambda: copy.execute(f"ATTACH {literal} AS source (READ_ONLY)"))
            try:
                for table, definition in copy.execute(
                    "SELECT table_name, sql FROM duckdb_tables() "
                    "WHERE database_name = 'source' AND schema_name = 'main'"
                ).fetchall():
                    if table in wanted:
                        copy.execute(definition)
                        name = quote_identifier(table)
                        copy.execute(f"INSERT INTO {name} FROM source.main.{name}")
                for (view,) in copy.execute(
                    "SELECT view_name FROM duckdb_views() "
                    "WHERE database_name = 'source' AND schema_name = 'main' AND NOT internal"
                ).fetchall():
                    if view in wanted:
                        name = quote_identifier(view)
                        copy.execute(f"CREATE TABLE {name} AS FROM source.main.{name}")
            finally:
                copy.execute("DETACH source")
        if self.path.resolve() not in _SCHEMA_CURRENT:
            self._refuse_outdated(copy)
        missing = wanted - {row[0] for row in copy.execute("SHOW TABLES").fetchall()}
        if missing:
            raise WarehouseError(f"warehouse {self.path} has no {', '.join(sorted(missing))}")
        return copy

    def compact(self) -> None:
        """Rewrite the file from its live rows, so that deleted rows leave no bytes behind (the
        right to deletion): copied into a fresh file and swapped in while this process still
        holds the old one, so no other process can write in between. The live file keeps the
        installed library's own storage format: other tools are pointed at the analytics copy,
        so the live file need not give up what newer formats bring."""
        fresh = self.path.with_name(self.path.name + ".compacting")
        # The live file keeps its keys, and DuckDB builds a key's index in memory: past about
        # 50,000 customers the copy outgrows `MEMORY_LIMIT`. A deletion must not fail for
        # that, so this rare copy gets DuckDB's own limit (80 % of the memory).
        with self.connect() as connection, memory_limit(connection, None):
            connection.execute("CHECKPOINT")
            with _new_database(connection, fresh) as copy:
                source = _current_database(connection)
                connection.execute(f"COPY FROM DATABASE {source} TO {copy}")
            os.replace(fresh, self.path)

    def schema_version(self) -> int:
        with self._open(read_only=True) as connection:
            return _applied_version(connection)

    def migrate(self) -> list[int]:
        """Apply pending migrations (`enrich init`); return the versions applied."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._open(read_only=False) as connection:
            return self._migrate(connection)

    def _refuse_outdated(self, connection: duckdb.DuckDBPyConnection) -> None:
        """A reader cannot migrate: say what to do when the file's schema is behind."""
        current, latest = _applied_version(connection), load_migrations()[-1].version
        if current < latest:
            raise WarehouseError(
                f"warehouse {self.path} has schema version {current}; this version of "
                f"enrichment-pipelines needs {latest}: run `enrich init` to upgrade it"
            )
        _SCHEMA_CURRENT.add(self.path.resolve())

    def _migrate(self, connection: duckdb.DuckDBPyConnection) -> list[int]:
        """Apply pending migrations, each in its own transaction."""
        migrations = load_migrations()
        latest = migrations[-1].version
        applied: list[int] = []
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL)"
        )
        current = _applied_version(connection)
        if current > latest:
            raise WarehouseError(
                f"warehouse {self.path} has schema version {current}, newer than this "
                f"version of enrichment-pipelines knows ({latest}): upgrade the package"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            connection.execute("BEGIN TRANSACTION")
            try:
                connection.execute(migration.sql)
                connection.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) "
                    "VALUES (?, ?, now())",
                    [migration.version, migration.name],
                )
            except duckdb.Error as error:
                connection.execute("ROLLBACK")
                raise WarehouseError(
                    f"migration {migration.version:03d}_{migration.name} failed: {error}"
                ) from error
            connection.execute("COMMIT")
            applied.append(migration.version)
        if applied:  # the view's columns follow the schema; otherwise it is current
            refresh_customer_360(connection)
        _SCHEMA_CURRENT.add(self.path.resolve())
        return applied


def _current_database(connection: duckdb.DuckDBPyConnection) -> str:
    row = connection.execute("SELECT current_database()").fetchone()
    assert row is not None
    return quote_identifier(row[0])


@contextmanager
def memory_limit(connection: duckdb.DuckDBPyConnection, limit: str | None) -> Iterator[None]:
    """DuckDB's memory limit `limit` (None: DuckDB's own, 80 % of the RAM) for the block, then
    `MEMORY_LIMIT` again: the limit is the database's, shared by this process's connections."""
    if limit is None:
        connection.execute("RESET memory_limit")
    else:
        connection.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")


@contextmanager
def _new_database(
    connection: duckdb.DuckDBPyConnection, target: Path, storage_version: str | None = None
) -> Iterator[str]:
    """A new database file `target`, attached to `connection` for the block (its name is
    yielded) and written in `storage_version` (a DuckDB release such as "v1.1.0") or, by
    default, in the installed library's own format."""
    target.unlink(missing_ok=True)
    literal = "'" + str(target).replace("'", "''") + "'"
    options = ""
    if storage_version is not None:
        # ATTACH options take no bound parameters; the version comes from code, not users.
        options = " (STORAGE_VERSION '" + storage_version.replace("'", "''") + "')"
    connection.execute(f"ATTACH {literal} AS copy_target{options}")
    try:
        yield "copy_target"
    finally:
        connection.execute("DETACH copy_target")


def _copy_rows_and_views(connection: duckdb.DuckDBPyConnection, copy: str) -> None:
    """The analysts' copy: the rows of every table but those left out, with their columns'
    types and without constraints, in one transaction (a consistent copy); then the views."""
    source = _current_database(connection)
    connection.execute("BEGIN TRANSACTION")
    try:
        for (table,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1"
        ).fetchall():
            if table in NOT_FOR_ANALYSTS:
                continue
            columns = "*"
            if left_out := COLUMNS_NOT_FOR_ANALYSTS.get(table):
                columns += f" EXCLUDE ({', '.join(map(quote_identifier, left_out))})"
            name = quote_identifier(table)
            connection.execute(
                f"CREATE TABLE {copy}.main.{name} AS SELECT {columns} FROM {source}.main.{name}"
            )
        pending = connection.execute(
            "SELECT view_name, sql FROM duckdb_views() "
            "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
        ).fetchall()
    except BaseException:
        connection.execute("ROLLBACK")  # so that the copy can be detached, and the error shown
        raise
    connection.execute("COMMIT")
    # A view is created by its own statement, naming others unqualified: each is made with
    # the copy as the current database, once the views it reads exist (DuckDB keeps no order
    # of views by what they read; a failed statement outside a transaction leaves nothing).
    connection.execute(f"USE {copy}")
    try:
        while pending:
            failed: dict[str, tuple[str, str]] = {}  # view -> its statement, why it failed
            for view, sql in pending:
                try:
                    connection.execute(sql)
                except (duckdb.CatalogException, duckdb.BinderException) as error:
                    failed[view] = (sql, str(error).splitlines()[0])
            if len(failed) == len(pending):
                reasons = "; ".join(f"{view}: {why}" for view, (_, why) in failed.items())
                raise WarehouseError(f"views not copied for analysts: {reasons}")
            pending = [(view, sql) for view, (sql, _) in failed.items()]
    finally:
        connection.execute(f"USE {source}")


def _applied_version(connection: duckdb.DuckDBPyConnection) -> int:
    exists = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = connection.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0
