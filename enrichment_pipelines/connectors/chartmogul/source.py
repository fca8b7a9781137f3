"""ChartMogul customers into the warehouse (`enrich import chartmogul`): listed page by page,
then checked and upserted like the rows of a file (`core/customers.import_records`), under the
source `chartmogul`. The customer's `uuid` is its id there and its ChartMogul id, `website_url`
its website; a second import changes nothing that did not change. New customers are picked up
by live enrichment like those of any import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from enrichment_pipelines.connectors.chartmogul.client import ChartMogulClient
from enrichment_pipelines.core.customers import ImportReport, Record, import_records
from enrichment_pipelines.core.warehouse import Warehouse
from enrichment_pipelines.core.websites import Network

SOURCE = "chartmogul"
# Fields of a ChartMogul customer kept with it as imported columns (`extra.` in segments).
KEPT_FIELDS = ("status", "mrr", "arr", "currency", "data_source_uuid")


def customer_record(entry: dict[str, Any]) -> dict[str, Any]:
    """A customer as ChartMogul lists it, as a record of an import (see COLUMN_ALIASES)."""
    attributes = entry.get("attributes") or {}
    kept = {name: entry.get(name) for name in KEPT_FIELDS if entry.get(name) is not None}
    return {
        "id": entry.get("uuid"),
        "chartmogul_uuid": entry.get("uuid"),
        "name": entry.get("name") or entry.get("company"),
        "email": entry.get("email"),
        "website": entry.get("website_url"),
        "country": entry.get("country"),
        "tags": attributes.get("tags") or [],
        **kept,
    }


def import_chartmogul_customers(
    warehouse: Warehouse,
    client: ChartMogulClient,
    *,
    data_source_uuid: str | None = None,
    allowed_networks: Sequence[Network] = (),
    on_listed: Callable[[int], None] = lambda listed: None,
) -> ImportReport:
    """List the customers (of one data source, if given) and upsert them in one transaction,
    after the listing (no lock is held while ChartMogul answers)."""
    records: list[Record] = []
    for number, entry in enumerate(client.customers(data_source_uuid), start=1):
        records.append((number, customer_record(entry), None))
        on_listed(number)
    origin = f"ChartMogul ({client.config.api_base})"
    return import_records(
        warehouse, records, origin, source=SOURCE, allowed_networks=allowed_networks
    )
