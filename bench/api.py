"""HTTP API latency under load while a batch writes.

Usage: .venv/bin/python bench/api.py [--clients 50] [--seconds 30] [--customers 400]
                                      [--workers N]

A fresh workspace gets `--customers` demo customers (sites on loopback, each response after
200 ms) enriched once; then `enrich serve` runs in its own processes (`--workers`, default
the configured `serve.workers`), and while `enrich batch
--in-process --reenrich-before now` re-enriches everyone in another process (so the warehouse
is being written the whole time), `--clients` concurrent clients (in a process of their own,
one kept-alive connection each, a request as soon as the last is answered) read `/api/status`,
`/api/customers?query=...` and `/api/customers/{id}` in equal shares for `--seconds`. Prints
requests, p50 and p99 latency, and errors (any status but 200, or a failed request). Target:
p99 < 200 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import _project  # noqa: F401  (the project root on the import path, for tests.support)
import httpx

from enrichment_pipelines.core.config import EnrichConfig
from enrichment_pipelines.core.credits import top_up
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.users import add_user
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo import start_demo_sites
from tests.support.instance import free_port

LOOPBACK = "127.0.0.0/8"


async def _client(
    host: str, port: int, requests: list[tuple[str, bytes]], until: float,
    latencies: list[float], errors: list[str],
) -> None:  # fmt: skip
    """One client on one kept-alive connection, one request at a time, as fast as answered."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < until:
            path, request = random.choice(requests)
            started = time.perf_counter()
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                errors.append(f"{path}: {type(error).__name__}")
                return
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200 "):
                status_line = head.partition(b"\r\n")[0].decode()
                errors.append(f"{path}: {status_line}")
    finally:
        writer.close()


async def _load(url: str, token: str, ids: list[str], clients: int, seconds: float) -> None:
    # A client of a few lines over asyncio streams, not httpx: with 50 clients httpx's pool
    # is the bottleneck (about 200 requests/s against a server that answers a constant),
    # where this one drives thousands.
    address = urlsplit(url)
    assert address.hostname and address.port
    paths = ["/api/status"]
    paths += [f"/api/customers?query={quote(customer_id[-3:])}" for customer_id in ids]
    paths += [f"/api/customers/{quote(customer_id)}" for customer_id in ids]
    requests = [
        (path, f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
               f"Authorization: Bearer {token}\r\n\r\n".encode())
        for path in paths
    ]  # fmt: skip
    # status, search and customer pages alike
    weighted = [requests[0]] * len(ids) + requests[1:]
    latencies: list[float] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(_client(address.hostname, address.port, weighted, until, latencies, errors)
          for _ in range(clients))
    )  # fmt: skip
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else float("nan")
    print(
        f"{len(latencies)} requests from {clients} clients in {seconds:.0f} s "
        f"({len(latencies) / seconds:.0f}/s) while a batch writes: "
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"errors {len(errors)}"
    )
    for error in sorted(set(errors))[:10]:
        print(f"  {error}")


def _run_load(url: str, token: str, ids: list[str], clients: int, seconds: float) -> None:
    asyncio.run(_load(url, token, ids, clients, seconds))


def _records_written(warehouse: Warehouse) -> int:
    with warehouse.connect(read_only=True) as connection:
        row = connection.execute("SELECT count(*) FROM enrichments").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--workers", type=int, default=EnrichConfig().serve.workers)
    args = parser.parse_args()
    enrich = str(Path(sys.executable).with_name("enrich"))
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        home = Path(folder)
        environment = {**os.environ, "ENRICH_HOME": str(home), "DAGSTER_HOME": "",
                       "ENRICH_ALLOW_PRIVATE_NETWORKS": LOOPBACK}  # fmt: skip
        sites = start_demo_sites(args.customers, latency_seconds=0.2)
        try:
            customers = sites.write_customers(home / "customers.csv")
            warehouse = Warehouse(home / "warehouse.duckdb")
            warehouse.migrate()
            import_customers(warehouse, customers, allowed_networks=parse_networks(LOOPBACK))
            with warehouse.transaction() as connection:
                token = add_user(connection, "bench", "staff", by="bench/api.py")
                # Enough for the first run and the batch: a batch out of credits writes
                # little but skips.
                top_up(connection, 3 * args.customers, note="bench/api.py")
                ids = [row[0] for row in connection.execute(
                    "SELECT customer_id FROM customers").fetchall()]  # fmt: skip
            print(f"enriching {len(ids)} customers once...", flush=True)
            subprocess.run([enrich, "run"], env=environment, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            port = free_port()
            print(f"serving with {args.workers} worker process(es)", flush=True)
            server = subprocess.Popen(
                [enrich, "serve", "--port", str(port), "--workers", str(args.workers)],
                env=environment, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            batch = subprocess.Popen(
                [enrich, "batch", "--in-process", "--reenrich-before",
                 time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 60))],
                env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 30
                while True:
                    try:
                        httpx.get(f"{url}/api/status", timeout=1)
                        break
                    except httpx.HTTPError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
                time.sleep(3)  # let the batch get going
                before = _records_written(warehouse)
                # The clients run in a process of their own: in this one, the demo sites'
                # threads (serving the batch) would hold the interpreter while an answer waits
                # to be timed.
                load = multiprocessing.get_context("spawn").Process(
                    target=_run_load, args=(url, token, ids, args.clients, args.seconds)
                )
                load.start()
                load.join()
                written = _records_written(warehouse) - before
                state = "still running" if batch.poll() is None else "over"
                print(f"meanwhile the batch wrote {written} records ({state} at the end)")
            finally:
                batch.terminate()
                server.terminate()
                batch.wait()
                server.wait()
        finally:
            sites.server.stop()


if __name__ == "__main__":
    main()
