"""The server's in-memory copy of the warehouse (core/warehouse/replica.py), on a real DuckDB
file: reads answer while another process holds the write lock, changes show within the
staleness allowed (at once with none), keyed reads are kept per copy and never outlive it, the
copy holds what it was asked for (views as their rows), and an outdated or incomplete warehouse
is refused by name. Through `enrich serve`'s app: a user's own change reads back at once, and a
token revoked from the CLI stops working within the staleness.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient

from enrichment_pipelines.api import build_app
from enrichment_pipelines.api.store import SERVED_TABLES
from enrichment_pipelines.core.credits import balance, top_up
from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.users import add_user, revoke_user
from enrichment_pipelines.core.warehouse import Warehouse, WarehouseError
from enrichment_pipelines.core.warehouse.replica import ReadReplica
from tests.support.config import loopback_config
from tests.support.records import enriched

LAG = 0.2  # the staleness the lagging replicas here allow


def replica(warehouse: Warehouse, staleness: float) -> ReadReplica:
    return ReadReplica(warehouse, tables=SERVED_TABLES, staleness_seconds=staleness)


@pytest.fixture
def lagging(warehouse: Warehouse) -> Iterator[ReadReplica]:
    copy = replica(warehouse, LAG)
    yield copy
    copy.close()


def eventually(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def count_customers(connection: duckdb.DuckDBPyConnection) -> int:
    row = connection.execute("SELECT count(*) FROM customers").fetchone()
    return int(row[0]) if row else 0


def test_reads_answer_while_another_process_writes(
    warehouse: Warehouse, lagging: ReadReplica, tmp_path: Path
) -> None:
    start = lagging.read(balance)
    # Another process takes the write lock, adds credits and keeps the file for a while.
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_LOCK, str(warehouse.path), "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(warehouse.path), read_only=True)  # a direct reader is shut out
        assert lagging.read(balance) == start  # the copy answers, from before the change
        assert holder.poll() is None, "the writer let go before the read was answered"
    finally:
        holder.wait(timeout=60)
    assert eventually(lambda: lagging.read(balance) == start + 7), "the change never showed"


_HOLD_THE_LOCK = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
connection.execute(
    "INSERT INTO credit_ledger (entry_id, created_at, delta, kind, note) "
    "VALUES ('held', now(), ?, 'top-up', 'held')", [int(sys.argv[2])]
)
print("holding", flush=True)
time.sleep(3)
connection.close()
"""


def top_up_by(warehouse: Warehouse, credits: int) -> None:
    with warehouse.transaction() as connection:
        top_up(connection, credits, note="test")


def test_with_no_staleness_every_read_sees_the_last_change(warehouse: Warehouse) -> None:
    current = replica(warehouse, 0)
    start = current.read(balance)
    for added in (3, 7, 8):
        top_up_by(warehouse, added - (current.read(balance) - start))
        expected = start + added
        assert current.read(balance) == expected
        assert current.read(balance, key="balance") == expected  # a kept result too
        assert current.remembered("balance") == (False, None)  # never served without reading


def test_a_kept_result_lasts_as_long_as_its_copy_and_is_read_again_on_the_next(
    warehouse: Warehouse, lagging: ReadReplica
) -> None:
    start = lagging.read(balance)
    calls: list[int] = []

    def counted(connection: duckdb.DuckDBPyConnection) -> int:
        calls.append(1)
        return balance(connection)

    assert [lagging.read(counted, key="balance") for _ in range(3)] == [start] * 3
    assert len(calls) == 1  # read once, then answered from memory
    assert lagging.remembered("balance") == (True, start)
    top_up_by(warehouse, 3)
    # The next copy has it read again before it serves (it was asked for most): never the old
    # figure, and no request has to wait for the reading.
    assert eventually(lambda: lagging.remembered("balance") == (True, start + 3))
    assert len(calls) >= 2
    assert lagging.read(counted, key="balance") == start + 3


def test_the_copy_holds_what_was_asked_and_views_as_their_rows(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    enriched(warehouse, tmp_path, 2)
    copy = warehouse.copy_in_memory(["customers", "customer_cards"])
    tables = {
        name: kind
        for name, kind in copy.execute(
            "SELECT table_name, table_type FROM information_schema.tables"
        ).fetchall()
    }
    assert tables == {
        "customers": "BASE TABLE",
        "customer_cards": "BASE TABLE",  # a view in the warehouse
        "schema_migrations": "BASE TABLE",  # so that the schema's version is checked
    }
    cards = copy.execute(
        "SELECT customer_id, attempt_status, enriched_at IS NOT NULL FROM customer_cards "
        "ORDER BY customer_id"
    ).fetchall()
    assert cards == [("import:1", "enriched", True), ("import:2", "enriched", True)]
    # Keys come along: a customer id stays unique.
    with pytest.raises(duckdb.ConstraintException):
        copy.execute("INSERT INTO customers SELECT * FROM customers LIMIT 1")


def test_writes_said_at_once_by_many_threads_all_land_and_every_copy_follows(
    warehouse: Warehouse,
) -> None:
    writer, other = replica(warehouse, 60.0), replica(warehouse, 60.0)  # two server processes
    other.read(balance)
    start = other.read(balance)

    with warehouse.transaction() as connection:
        top_up(connection, 40, note="test")
    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(writer.wrote) for _ in range(40)]:
            done.result()  # none fails: each call stages its own marker file
    assert other.read(balance) == start + 40  # it lags a minute, but follows a served write
    assert list(warehouse.path.parent.glob("*.served-writes.*")) == []  # nothing left behind
    writer.close()
    other.close()


def test_a_warehouse_without_a_table_asked_for_is_refused_by_name(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="has no no_such_table"):
        warehouse.copy_in_memory(["customers", "no_such_table"])


def test_an_outdated_warehouse_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE schema_migrations (version INTEGER, name VARCHAR)")
        connection.execute("INSERT INTO schema_migrations VALUES (1, 'initial')")
    with pytest.raises(WarehouseError, match="run `enrich init`"):
        Warehouse(path).copy_in_memory(["schema_migrations"])


def test_no_warehouse_yet_is_said_plainly(home: Path) -> None:
    with pytest.raises(EnrichError, match="no warehouse at"):
        replica(Warehouse(home / "warehouse.duckdb"), LAG).read(balance)


# Through the server -----------------------------------------------------------------------------


@pytest.fixture
def lagging_server(warehouse: Warehouse) -> Iterator[TestClient]:
    config = loopback_config()
    serve = dataclasses.replace(config.serve, read_staleness_seconds=LAG)
    with TestClient(build_app(dataclasses.replace(config, serve=serve))) as client:
        yield client


def test_a_users_own_change_reads_back_at_once(
    warehouse: Warehouse, lagging_server: TestClient
) -> None:
    with warehouse.transaction() as connection:
        owner = {"Authorization": f"Bearer {add_user(connection, 'olivia', 'owner', by='t')}"}
    start = lagging_server.get("/api/status", headers=owner).json()["credit_balance"]
    topped = lagging_server.post("/api/credits/top-up", headers=owner, json={"credits": 9})
    assert topped.status_code == 200, topped.text
    # No waiting: the write took a new copy before it answered.
    assert lagging_server.get("/api/status", headers=owner).json()["credit_balance"] == start + 9


def test_a_token_revoked_from_the_cli_stops_working_within_the_staleness(
    warehouse: Warehouse, lagging_server: TestClient
) -> None:
    with warehouse.transaction() as connection:
        staff = {"Authorization": f"Bearer {add_user(connection, 'sam', 'staff', by='t')}"}
    assert lagging_server.get("/api/status", headers=staff).status_code == 200
    with warehouse.transaction() as connection:
        revoke_user(connection, "sam", by="test")
    assert eventually(
        lambda: lagging_server.get("/api/status", headers=staff).status_code == 401
    ), "the revoked token kept working"


def test_a_change_made_elsewhere_shows_within_the_staleness(
    warehouse: Warehouse, lagging_server: TestClient
) -> None:
    with warehouse.transaction() as connection:
        staff = {"Authorization": f"Bearer {add_user(connection, 'sam', 'staff', by='t')}"}

    def customers() -> int:
        return int(lagging_server.get("/api/status", headers=staff).json()["customers"])

    assert customers() == 0
    with warehouse.transaction() as connection:
        connection.execute(
            "INSERT INTO customers (customer_id, source, external_id, name, imported_at, "
            "updated_at) VALUES ('import:x', 'import', 'x', 'X', now(), now())"
        )
    assert eventually(lambda: customers() == 1), "the new customer never showed"
