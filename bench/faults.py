"""Hostile cases, each played against real parts, and what came of it.

Usage: .venv/bin/python bench/faults.py

Every case runs here with real parts (loopback web servers, a DuckDB warehouse, the local
OpenAI-compatible server) and prints one row: the case, what happened, and whether that is
what the engine promises. The same cases are asserted by the tests named in the last column;
this prints them side by side for the README.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _project  # noqa: F401  (the project root on the import path, for tests.support)
from rich.console import Console
from rich.table import Table

from enrichment_pipelines.core.config import LLMConfig
from enrichment_pipelines.core.crawl import CrawlOptions, crawl_sites
from enrichment_pipelines.core.customers import import_customers
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.enrichment.pages import claim_websites
from enrichment_pipelines.core.extractors.llm import LLMExtractor
from enrichment_pipelines.core.forget import forget_customer
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo.server import SiteServer
from enrichment_pipelines.demo.sites import Response
from tests.support.hostile import injected_site, obedient_answer
from tests.support.llm_server import LLMReply, LocalLLMServer
from tests.support.records import crawl_of, import_sites, store_crawls


@dataclass(frozen=True)
class Outcome:
    case: str
    outcome: str
    held: bool
    test: str


@contextmanager
def _warehouse() -> Iterator[tuple[Warehouse, Path]]:
    with tempfile.TemporaryDirectory() as folder:
        store = Warehouse(Path(folder) / "warehouse.duckdb")
        store.migrate()
        yield store, Path(folder)


def _count(store: Warehouse, sql: str) -> int:
    with store.connect(read_only=True) as connection:
        row = connection.execute(sql).fetchone()
    return int(row[0]) if row else 0


def forget_mid_run() -> Outcome:
    with _warehouse() as (store, folder):
        sites = import_sites(store, folder, 2)
        crawls = [crawl_of(url) for url in sites]  # crawled, not saved yet
        with store.transaction() as connection:
            forget_customer(connection, "import:1", by="faults")
        store_crawls(store, crawls)
        written = _count(
            store, f"SELECT count(*) FROM scraped_pages WHERE website_url = '{sites[0]}'"
        )
    return Outcome(
        "forget while a run crawls the customer's site",
        f"{written} pages of the forgotten site written back",
        written == 0,
        "tests/test_enrichment_steps.py",
    )


def forget_leaves_no_bytes() -> Outcome:
    with _warehouse() as (store, folder):
        import_sites(store, folder, 50)
        with store.transaction() as connection:
            connection.execute(
                "UPDATE customers SET name = 'Zanzibar Forgettable GmbH' "
                "WHERE customer_id = 'import:7'"
            )
        with store.transaction() as connection:
            forget_customer(connection, "import:7", by="faults")
        before = b"Zanzibar Forgettable" in store.path.read_bytes()
        store.compact()
        after = b"Zanzibar Forgettable" in store.path.read_bytes()
    return Outcome(
        "forget: the name's bytes in warehouse.duckdb",
        f"found after the DELETE: {before}; after the rewrite: {after}",
        not after,
        "tests/test_forget.py",
    )


def two_runs_at_once() -> Outcome:
    with _warehouse() as (store, folder):
        sites = import_sites(store, folder, 10)
        from datetime import timedelta

        with store.transaction() as connection:
            first = claim_websites(connection, sites, "run-a", timedelta(minutes=10))
            second = claim_websites(connection, sites, "run-b", timedelta(minutes=10))
    return Outcome(
        "two runs start on the same 10 sites",
        f"run A crawls {len(first)}, run B {len(second)}",
        (len(first), len(second)) == (10, 0),
        "tests/test_enrichment_steps.py",
    )


def dns_rebinding() -> Outcome:
    answers = iter(["127.0.1.77"] + ["127.0.2.77"] * 20)
    seen: dict[str, int] = {"127.0.1.77": 0, "127.0.2.77": 0}

    def page(address: str) -> Callable[..., Response]:
        def handler(_request: object) -> Response:
            seen[address] += 1
            return Response(200, b"<html><title>Site</title><p>We build things.</p></html>")

        return handler

    sites = {address: {"/": page(address), "/robots.txt": page(address)} for address in seen}
    with SiteServer(sites) as server:
        options = CrawlOptions(
            allowed_networks=parse_networks("127.0.1.0/24"),
            resolve=lambda _host, _port: [next(answers)],
            retries=0,
        )
        [crawl] = crawl_sites([f"http://rebind.test:{server.port}"], options)
    return Outcome(
        "DNS rebinding: checked 127.0.1.77, then answers 127.0.2.77",
        f"requests to the checked address {seen['127.0.1.77']}, to the other "
        f"{seen['127.0.2.77']} ({crawl.status}{': ' + crawl.reason if crawl.reason else ''})",
        seen["127.0.2.77"] == 0,
        "tests/test_ssrf_pinning.py",
    )


def bad_import_rows() -> list[Outcome]:
    with _warehouse() as (store, folder):
        path = folder / "customers.csv"
        with path.open("wb") as handle:
            handle.write(b"id,name,website\n1,Good,good.example\n2,Caf\xe9,cafe.example\n")
            handle.write(f"3,Long,https://long.example/{'x' * 5000}\n".encode())
            handle.write(b"4,Loopback,http://127.1/\n")
        report = import_customers(store, path)
        with store.connect(read_only=True) as connection:
            errors = dict(
                connection.execute(
                    "SELECT external_id, website_error FROM customers "
                    "WHERE website_error IS NOT NULL"
                ).fetchall()
            )
    utf8 = next((str(p) for p in report.problems if p.rejected), "none")
    return [
        Outcome(
            "CSV with one invalid UTF-8 byte (line 3)",
            f"{report.imported} rows imported; {utf8}",
            report.imported == 3 and "line 3" in utf8,
            "tests/test_customers_import.py",
        ),
        Outcome(
            "website URL of 5,020 characters",
            errors.get("3", "accepted"),
            "too long" in errors.get("3", ""),
            "tests/test_websites.py",
        ),
        Outcome(
            "website http://127.1/ (shorthand loopback)",
            errors.get("4", "accepted"),
            "4" in errors,
            "tests/test_websites.py",
        ),
    ]


def _llm(server: LocalLLMServer, **settings: Any) -> LLMExtractor:
    return LLMExtractor(LLMConfig(api_key="sk-faults", base_url=server.url, model="local",
                                  **settings))  # fmt: skip


def obedient_model() -> list[Outcome]:
    with LocalLLMServer() as server:
        server.answer = obedient_answer
        result = _llm(server).extract("https://acme.example", injected_site(), DATA_POINT_KEYS)
    data = result.data
    return [
        Outcome(
            "page says 'set country to KP', the model obeys and quotes it",
            f"country stored: {data.get('location_country_code')}, target market: "
            f"{data.get('target_market')}",
            data.get("location_country_code") == "DE" and data.get("target_market") != "B2C",
            "tests/test_llm_extractor.py",
        ),
        Outcome(
            "model cites 'e' for 10001+ and 'Acme' for acquired",
            f"employee count: {data.get('employee_count')}, acquired: {data.get('is_acquired')}",
            data.get("employee_count") is None and data.get("is_acquired") is not True,
            "tests/test_evidence.py",
        ),
    ]


def stalling_endpoints() -> list[Outcome]:
    pages = injected_site()
    rows = []
    for label, reply in (
        ("LLM endpoint trickles one byte every 20 s", LLMReply(trickle_seconds=20)),
        ("LLM endpoint accepts and stays silent", LLMReply(silent_seconds=600)),
    ):
        with LocalLLMServer() as server:
            server.script = [reply] * 4
            extractor = _llm(server, call_deadline_seconds=3, site_deadline_seconds=5)
            started = time.monotonic()
            result = extractor.extract("https://acme.example", pages, DATA_POINT_KEYS)
            took = time.monotonic() - started
        rows.append(
            Outcome(
                f"{label} (deadlines: call 3 s, site 5 s)",
                f"site given up after {took:.1f} s: {result.error}",
                took < 6 and result.error is not None,
                "tests/test_llm_extractor.py",
            )
        )
    with LocalLLMServer() as server:
        server.script = [LLMReply(status=500, error="overloaded")] * 50
        extractor = _llm(server, max_retries=0, breaker_failures=5)
        results = [
            extractor.extract("https://acme.example", pages, DATA_POINT_KEYS) for _ in range(20)
        ]
        sent = len(server.requests)
    offline = sum(1 for r in results if r.error and r.error.startswith("LLM skipped"))
    rows.append(
        Outcome(
            "LLM endpoint answers 500 to everything, 20 sites",
            f"{sent} requests sent, then {offline} sites got the offline result",
            sent == 5 and offline == 15,
            "tests/test_llm_extractor.py",
        )
    )
    return rows


CASES: list[Callable[[], Outcome | list[Outcome]]] = [
    obedient_model,
    stalling_endpoints,
    forget_leaves_no_bytes,
    forget_mid_run,
    two_runs_at_once,
    dns_rebinding,
    bad_import_rows,
]


def main() -> None:
    rows: list[Outcome] = []
    started = time.monotonic()
    for case in CASES:
        result = case()
        rows.extend(result if isinstance(result, list) else [result])
    table = Table(title=f"Hostile cases ({time.monotonic() - started:.1f} s)")
    for column in ("case", "outcome", "held", "test"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.case, row.outcome, "yes" if row.held else "NO", row.test)
    Console(width=200).print(table)
    sys.exit(0 if all(row.held for row in rows) else 1)


if __name__ == "__main__":
    main()
