-- 010: one row per customer with what a page about it shows first: its latest enrichment
-- attempt and the enrichment in force. The server's in-memory copy of the warehouse holds it
-- as a table of its rows (core/warehouse/replica.py), so that a customer page or a search is
-- one lookup there instead of a ranking of every enrichment. `search_text` is what a search
-- looks in: the id, name, website and email in lower case, one per line (a search, its
-- whitespace folded to single spaces, never spans two).

CREATE VIEW customer_cards AS
SELECT
    c.customer_id,
    c.external_id,
    c.name,
    c.email,
    coalesce(c.website_url, c.website_raw) AS website,
    c.website_error,
    c.billing_country_code,
    o.created_at AS attempted_at,
    o.status AS attempt_status,
    o.reason AS attempt_reason,
    e.enrichment_id AS current_enrichment_id,
    e.created_at AS enriched_at,
    lower(concat_ws(chr(10), c.customer_id, c.name, coalesce(c.website_url, c.website_raw),
                    c.email)) AS search_text
FROM customers AS c
LEFT JOIN enrichment_outcomes AS o USING (customer_id)
LEFT JOIN current_enrichments AS e USING (customer_id);
