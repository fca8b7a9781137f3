"""Views generated from the warehouse's own metadata.

`customer_360` has one column per custom attribute, so it is rebuilt whenever attribute
definitions change (migrations, settings). Attribute names are validated identifiers
(see `core.settings`) and are quoted here as well.
"""

from __future__ import annotations

import duckdb

from enrichment_pipelines.core.datapoints import VALUE_COLUMN_BY_TYPE

_BASE_COLUMNS = """
    c.customer_id, c.source, c.external_id, c.name, c.email, c.website_url, c.website_domain,
    c.website_error, c.billing_country_code, c.imported_at,
    coalesce(t.tags, []) AS tags,
    e.created_at AS last_enriched_at,
    e.enrichment_id AS current_enrichment_id,
    o.status AS last_outcome,
    o.reason AS last_outcome_reason,
    o.created_at AS last_outcome_at"""

_FROM = """
FROM customers AS c
LEFT JOIN (
    SELECT customer_id, list(tag ORDER BY tag) AS tags FROM customer_tags GROUP BY customer_id
) AS t USING (customer_id)
LEFT JOIN current_enrichments AS e USING (customer_id)
LEFT JOIN enrichment_outcomes AS o USING (customer_id)
LEFT JOIN custom_attributes AS a USING (customer_id)"""


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def refresh_customer_360(connection: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `customer_360`: one row per customer with every custom attribute as a column."""
    definitions = connection.execute(
        "SELECT name, type FROM attribute_definitions ORDER BY source, name"
    ).fetchall()
    attribute_columns = []
    for name, attribute_type in definitions:
        value_column = VALUE_COLUMN_BY_TYPE.get(attribute_type, "value_string")
        literal = "'" + name.replace("'", "''") + "'"
        attribute_columns.append(
            f"max(a.{value_column}) FILTER (WHERE a.name = {literal}) AS {quote_identifier(name)}"
        )
    select_list = ",\n    ".join([_BASE_COLUMNS.strip(), *attribute_columns])
    connection.execute(
        f"CREATE OR REPLACE VIEW customer_360 AS\nSELECT\n    {select_list}{_FROM}\nGROUP BY ALL"
    )
