"""Live enrichment sensor ticks over a million customers.

Usage: .venv/bin/python bench/sensors.py [--customers 1000000] [--entrants 10000]

Builds a synthetic warehouse in DuckDB (customers with tags, countries and an imported plan;
60% enriched with custom attributes), saves a segment ("EU customers tagged vip on a paid
plan") and turns live enrichment on for it, which records today's members as the baseline.
Then `--entrants` customers who were never enriched enter the segment (they get the tag).
Each tick runs in a fresh process, as the Dagster daemon's code server would, and prints:
- the segment tick: finding the entrants and building the run requests;
- the idle new-customer tick: nothing imported since the cursor;
with the tick process's peak memory. Targets: segment tick < 10 s, peak memory < 1.5 GB,
idle tick < 1 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEGMENT = """\
description: EU customers tagged vip on a paid plan
match:
  all:
    - {field: tags, op: contains, value: vip}
    - {field: billing_country_code, op: in, value: [DE, FR, NL, ES, IT, SE]}
    - {field: extra.plan, op: in, value: [pro, enterprise]}
"""


def build(home: Path, customers: int, entrants: int) -> None:
    from enrichment_pipelines.core.live import turn_live_on
    from enrichment_pipelines.core.segments.compiler import parse_segment
    from enrichment_pipelines.core.segments.store import save_segment
    from enrichment_pipelines.core.warehouse import Warehouse

    store = Warehouse(home / "warehouse.duckdb")
    store.migrate()
    started = time.perf_counter()
    with store.transaction() as connection:
        connection.execute(
            """
            INSERT INTO customers
            SELECT 'bench:' || i, 'bench', i::VARCHAR, 'Company ' || i, NULL,
                   'c' || i || '.example', 'https://c' || i || '.example', 'c' || i || '.example',
                   NULL, ['DE', 'FR', 'NL', 'US', 'GB', 'ES', 'IT', 'SE'][1 + i % 8],
                   json_object('plan', ['free', 'pro', 'enterprise'][1 + i % 3]),
                   now() - INTERVAL 30 DAY, now() - INTERVAL 30 DAY
            FROM range($n) AS r(i)
            """,
            {"n": customers},
        )
        connection.execute(
            "INSERT INTO customer_tags SELECT 'bench:' || i, 'vip' FROM range($n) AS r(i) "
            "WHERE i % 10 = 0 AND i % 5 < 3",
            {"n": customers},
        )
        connection.execute(
            """
            INSERT INTO enrichments (enrichment_id, customer_id, status, credits_charged,
                                     created_at)
            SELECT 'e' || i, 'bench:' || i, 'enriched', 1, now() - INTERVAL 10 DAY
            FROM range($n) AS r(i) WHERE i % 5 < 3
            """,
            {"n": customers},
        )
        connection.execute(
            "INSERT INTO attribute_definitions VALUES ('is_saas_enriched', 'Boolean', "
            "'enrichment', NULL, now())"
        )
        connection.execute(
            "INSERT INTO custom_attributes SELECT 'bench:' || i, 'is_saas_enriched', NULL, "
            "i % 2 = 0, 'enrichment', 'e' || i, now() FROM range($n) AS r(i) WHERE i % 5 < 3",
            {"n": customers},
        )
        save_segment(connection, parse_segment("eu-vip", SEGMENT), by="bench", create=True)
    with store.transaction() as connection:
        turned = turn_live_on(connection, "eu-vip", by="bench")
    # Entrants: never-enriched customers outside the segment that now qualify (EU, paid plan).
    with store.transaction() as connection:
        connection.execute(
            """
            INSERT INTO customer_tags
            SELECT c.customer_id, 'vip' FROM customers AS c
            WHERE NOT EXISTS (SELECT 1 FROM customer_tags AS t WHERE t.customer_id = c.customer_id)
              AND NOT EXISTS (SELECT 1 FROM enrichments AS e WHERE e.customer_id = c.customer_id)
              AND c.billing_country_code IN ('DE', 'FR', 'NL', 'ES', 'IT', 'SE')
              AND c.extra->>'plan' IN ('pro', 'enterprise')
            LIMIT $n
            """,
            {"n": entrants},
        )
    assert turned.baseline is not None
    print(
        f"built {customers:,} customers in {time.perf_counter() - started:.1f}s; segment eu-vip "
        f"had {turned.baseline.members:,} members when live was turned on; {entrants:,} entered"
    )


def tick(home: Path, which: str) -> None:
    """Child process: one sensor tick; prints JSON with its time and the peak memory."""
    import dagster as dg

    from enrichment_pipelines.definitions import defs
    from enrichment_pipelines.resources import WarehouseResource
    from enrichment_pipelines.sensors import new_customers_sensor, segment_entrants_sensor

    if which == "segment":
        sensor = segment_entrants_sensor
        checked = datetime.now(UTC) - timedelta(hours=7)
        cursor = json.dumps({"checked_at": checked.isoformat(), "target": "eu-vip"})
    else:
        sensor = new_customers_sensor
        cursor = json.dumps({"imported_after": datetime.now(UTC).isoformat()})
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            resources={"warehouse": WarehouseResource(home=str(home))},
            definitions=defs,
        )
        started = time.perf_counter()
        result = sensor(context)
        seconds = time.perf_counter() - started
    requests = [] if isinstance(result, dg.SkipReason) else (result.run_requests or [])
    customers = sum(
        len(r.run_config["resources"]["enrichment_run"]["config"]["customer_keys"])
        for r in requests
    )
    print(
        json.dumps(
            {
                "seconds": seconds,
                "runs": len(requests),
                "customers": customers,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def measure(home: Path, which: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--tick", which, "--home", str(home)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--entrants", type=int, default=10_000)
    parser.add_argument("--tick", choices=("segment", "new"))
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    if args.tick:
        tick(args.home, args.tick)
        return
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        build(home, args.customers, args.entrants)
        segment = measure(home, "segment")
        idle = measure(home, "new")
    print(
        f"segment tick: {segment['seconds']:.2f}s for {segment['customers']:,.0f} entrants in "
        f"{segment['runs']:.0f} shard runs (target < 10 s); peak memory of the tick process "
        f"{segment['peak_mib']:.0f} MiB (target < 1536 MiB)"
    )
    print(
        f"idle new-customer tick: {idle['seconds']:.3f}s, {idle['runs']:.0f} runs (target < 1 s);"
        f" peak memory {idle['peak_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
