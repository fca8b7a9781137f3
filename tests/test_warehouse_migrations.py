from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from enrichment_pipelines.core import warehouse as warehouse_module
from enrichment_pipelines.core.credits import balance
from enrichment_pipelines.core.warehouse import Migration, Warehouse, WarehouseError, insert_rows
from tests.support.processes import other_process_holding


def add_customer(store: Warehouse, customer_id: str = "s:1") -> None:
    source, external_id = customer_id.split(":")
    with store.transaction() as connection:
        connection.execute(
            "INSERT INTO customers (customer_id, source, external_id, imported_at, updated_at) "
            "VALUES (?, ?, ?, now(), now())",
            [customer_id, source, external_id],
        )


def test_new_warehouse_is_migrated_and_starts_with_100_credits(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    latest = warehouse_module.load_migrations()[-1].version
    assert store.migrate() == list(range(1, latest + 1))
    assert store.schema_version() == latest
    with store.connect() as connection:
        assert balance(connection) == 100
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
    assert {
        "customers", "customer_tags", "attribute_definitions", "custom_attributes",
        "custom_attribute_history", "notes", "segments", "site_crawls", "scraped_pages",
        "extractions", "enrichments", "enrichment_values", "credit_ledger", "settings",
        "customer_360",
    } <= tables  # fmt: skip


def test_migrating_again_changes_nothing(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    assert store.migrate() == []
    with store.connect() as connection:
        assert balance(connection) == 100  # the initial grant is not given twice


def test_new_migration_applies_to_an_existing_warehouse_and_keeps_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    add_customer(store)
    shipped = warehouse_module.load_migrations()
    added = Migration(
        len(shipped) + 1, "add_customer_hint", "ALTER TABLE customers ADD COLUMN hint VARCHAR"
    )
    monkeypatch.setattr(warehouse_module, "load_migrations", lambda: [*shipped, added])
    assert store.migrate() == [added.version]
    with store.connect() as connection:
        assert connection.execute("SELECT customer_id, hint FROM customers").fetchall() == [
            ("s:1", None)
        ]
        assert connection.execute("SELECT max(version) FROM schema_migrations").fetchone() == (
            added.version,
        )


def test_a_failing_migration_is_rolled_back_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    shipped = warehouse_module.load_migrations()
    broken = Migration(
        len(shipped) + 1, "broken", "CREATE TABLE half_done (x INT); SELECT * FROM no_such_table"
    )
    monkeypatch.setattr(warehouse_module, "load_migrations", lambda: [*shipped, broken])
    with pytest.raises(WarehouseError, match=f"migration {broken.version:03d}_broken failed"):
        store.migrate()
    assert store.schema_version() == len(shipped)
    with store.connect() as connection:
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
    assert "half_done" not in tables


def test_a_warehouse_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    with store.transaction() as connection:
        connection.execute("INSERT INTO schema_migrations VALUES (99, 'future', now())")
    with pytest.raises(WarehouseError, match="schema version 99, newer"):
        store.migrate()


def test_writer_waits_for_another_process_to_release_the_lock(tmp_path: Path) -> None:
    import time

    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    with other_process_holding(store.path, seconds=1.5):
        started = time.monotonic()
        with store.transaction() as connection:  # waits for the other process, then writes
            connection.execute("INSERT INTO settings VALUES ('k', '1', now(), 'test')")
        assert time.monotonic() - started > 0.5
    impatient = Warehouse(store.path, lock_timeout_seconds=0.3)
    with (
        other_process_holding(store.path, seconds=3),
        pytest.raises(WarehouseError, match="stayed locked by another process"),
        impatient.connect(),
    ):
        pass


def test_analysts_read_the_snapshot_while_a_writer_holds_the_warehouse(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    add_customer(store)
    snapshot = store.publish_snapshot(tmp_path / "analytics.duckdb")
    writing = "INSERT INTO settings VALUES ('w', '1', now(), 'writer')"
    with other_process_holding(store.path, seconds=3, statement=writing):
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(store.path), read_only=True)  # the live file is locked ...
        with duckdb.connect(str(snapshot), read_only=True) as analyst:  # ... the copy is not
            assert analyst.execute("SELECT count(*) FROM customer_360").fetchone() == (1,)


def test_migrations_run_once_per_process_at_the_first_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations: list[Path] = []
    migrate = Warehouse._migrate

    def counting(self: Warehouse, connection: duckdb.DuckDBPyConnection) -> list[int]:
        migrations.append(self.path)
        return migrate(self, connection)

    monkeypatch.setattr(Warehouse, "_migrate", counting)
    store = Warehouse(tmp_path / "w.duckdb")
    for _ in range(3):
        with store.transaction() as connection:
            connection.execute("SELECT 1")
        with Warehouse(store.path).connect(read_only=True) as connection:
            connection.execute("SELECT count(*) FROM customers")
    assert migrations == [store.path]


def test_a_reader_never_migrates_and_says_to_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from enrichment_pipelines.cli import main

    store = Warehouse(tmp_path / "warehouse.duckdb")
    store.migrate()
    shipped = warehouse_module.load_migrations()
    added = Migration(len(shipped) + 1, "add_hint", "ALTER TABLE customers ADD COLUMN hint INT")
    monkeypatch.setattr(warehouse_module, "load_migrations", lambda: [*shipped, added])
    monkeypatch.setattr(warehouse_module, "_SCHEMA_CURRENT", set())  # as a new process
    with (
        pytest.raises(WarehouseError, match="run `enrich init` to upgrade it"),
        store.connect(read_only=True),
    ):
        pass
    assert store.schema_version() == len(shipped)  # the reader changed nothing
    result = CliRunner().invoke(main, ["init"], env={"ENRICH_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert f"schema version {added.version} (applied migrations {added.version})" in result.output
    with store.connect(read_only=True) as connection:
        assert connection.execute("SELECT count(hint) FROM customers").fetchone() == (0,)


def test_rows_are_inserted_by_column_name_with_their_types_and_conflicts() -> None:
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE facts (key VARCHAR PRIMARY KEY, count INTEGER, share DOUBLE, "
        "flag BOOLEAN, seen_at TIMESTAMPTZ, note VARCHAR)"
    )
    seen_at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    # Columns named in another order than the table's; `note` is NULL in every row.
    columns = ("note", "seen_at", "flag", "share", "count", "key")
    insert_rows(connection, "facts", columns, [
        [None, seen_at, True, 0, 3, "a"],
        [None, None, None, 0.5, None, "b"],
    ])  # fmt: skip
    insert_rows(
        connection, "facts", ("key", "count"), [["a", 99], ["c", 1]],
        conflict="ON CONFLICT DO NOTHING",
    )  # fmt: skip
    assert connection.execute("SELECT * FROM facts ORDER BY key").fetchall() == [
        ("a", 3, 0.0, True, seen_at, None),
        ("b", None, 0.5, None, None, None),
        ("c", 1, None, None, None, None),
    ]
    with pytest.raises(ValueError, match=r"insert into facts: row 1 has 1 values for 2"):
        insert_rows(connection, "facts", ("key", "count"), [["d", 1], ["e"]])


def test_pages_stored_before_the_whole_document_was_kept_are_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = warehouse_module.load_migrations()
    markup = next(m for m in shipped if m.name == "page_markup")
    monkeypatch.setattr(warehouse_module, "load_migrations", lambda: shipped[: markup.version - 1])
    store = Warehouse(tmp_path / "w.duckdb")
    store.migrate()
    with store.transaction() as connection:
        for url, assets in (
            ("https://a.example/", '{"head": "<head></head>"}'),
            ("https://b.example/", '{"head": "<head></head>", "markup": "<html></html>"}'),
        ):
            connection.execute(
                "INSERT INTO scraped_pages (website_url, url, fetched_at, etag, assets) "
                "VALUES (?, ?, now(), 'W/\"1\"', ?)",
                [url, url, assets],
            )
    monkeypatch.setattr(warehouse_module, "load_migrations", lambda: shipped)
    assert store.migrate() == [m.version for m in shipped[markup.version - 1 :]]
    with store.connect() as connection:
        rows = connection.execute(
            "SELECT url, assets IS NULL, etag FROM scraped_pages ORDER BY url"
        ).fetchall()
    # the old page: stale and without validators (fetched whole); the new one untouched
    assert rows == [("https://a.example/", True, None), ("https://b.example/", False, 'W/"1"')]
