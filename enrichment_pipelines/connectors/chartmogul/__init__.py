"""ChartMogul as a source of customers (`source.py`: `enrich import chartmogul`) and a sink of
enriched attributes and notes (`sink.py`: `enrich push chartmogul`, the `chartmogul_sync`
asset), over its public REST API (`client.py`)."""
