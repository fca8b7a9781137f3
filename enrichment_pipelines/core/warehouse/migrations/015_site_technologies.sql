-- 015: the technologies detected on each website (from its latest extraction), each with
-- its categories, version and the evidence that shows it; and a view of them per customer
-- and category, for analysts to group by ("which customers use HubSpot", "CMS by count").
CREATE TABLE site_technologies (
    website_url    VARCHAR NOT NULL,
    technology     VARCHAR NOT NULL,
    categories     VARCHAR[] NOT NULL,
    version        VARCHAR,
    confidence     DOUBLE,
    evidence_url   VARCHAR,
    evidence_quote VARCHAR,
    implied_by     VARCHAR,                      -- detected because another technology implies it
    detected_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (website_url, technology)
);

CREATE VIEW customer_technologies AS
SELECT c.customer_id, t.website_url, t.technology, category, t.version, t.implied_by,
       t.detected_at
FROM site_technologies AS t
JOIN customers AS c USING (website_url)
-- a technology without a category (a user's fingerprint may have none) stays, under NULL
CROSS JOIN unnest(CASE WHEN len(t.categories) = 0 THEN [NULL] ELSE t.categories END)
    AS category_list(category);
