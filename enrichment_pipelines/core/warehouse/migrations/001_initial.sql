-- 001: the initial warehouse schema. Documented table by table in README.md ("The warehouse").

CREATE TABLE customers (
    customer_id          VARCHAR PRIMARY KEY,   -- '<source>:<external_id>', stable across imports
    source               VARCHAR NOT NULL,      -- where the record came from (import name)
    external_id          VARCHAR NOT NULL,      -- the record's id in that source
    name                 VARCHAR,
    email                VARCHAR,
    website_raw          VARCHAR,               -- as imported
    website_url          VARCHAR,               -- normalised; NULL when missing or refused
    website_domain       VARCHAR,
    website_error        VARCHAR,               -- why website_url is NULL
    billing_country_code VARCHAR,
    extra                JSON,                  -- the row's other columns, kept as imported
    imported_at          TIMESTAMPTZ NOT NULL,  -- first time this record was seen
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE customer_tags (
    customer_id VARCHAR NOT NULL,
    tag         VARCHAR NOT NULL,
    PRIMARY KEY (customer_id, tag)
);

CREATE TABLE attribute_definitions (
    name        VARCHAR PRIMARY KEY,
    type        VARCHAR NOT NULL CHECK (type IN ('String', 'Boolean')),
    source      VARCHAR NOT NULL CHECK (source IN ('enrichment', 'user')),
    description VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL
);

-- Current value of each custom attribute per customer; earlier values live in the history.
CREATE TABLE custom_attributes (
    customer_id   VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    value_string  VARCHAR,
    value_boolean BOOLEAN,
    source        VARCHAR NOT NULL,
    enrichment_id VARCHAR,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, name)
);

CREATE TABLE custom_attribute_history (
    customer_id   VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    old_value     VARCHAR,
    new_value     VARCHAR,
    changed_at    TIMESTAMPTZ NOT NULL,
    enrichment_id VARCHAR,
    reason        VARCHAR NOT NULL
);

CREATE TABLE notes (
    note_id       VARCHAR PRIMARY KEY,
    customer_id   VARCHAR NOT NULL,
    body          VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    enrichment_id VARCHAR,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE segments (
    name       VARCHAR PRIMARY KEY,
    definition JSON NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The latest crawl of each website and its pages (replaced as a whole on each crawl).
CREATE TABLE site_crawls (
    website_url VARCHAR PRIMARY KEY,
    crawled_at  TIMESTAMPTZ NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('ok', 'failed')),
    reason      VARCHAR,
    page_count  INTEGER NOT NULL,
    content_key VARCHAR,                        -- hash over the pages' content hashes
    run_id      VARCHAR
);

CREATE TABLE scraped_pages (
    website_url     VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,           -- requested URL
    final_url       VARCHAR,
    status_code     INTEGER,
    content_type    VARCHAR,
    charset         VARCHAR,
    fetched_at      TIMESTAMPTZ NOT NULL,
    etag            VARCHAR,
    last_modified   VARCHAR,
    content_hash    VARCHAR,
    title           VARCHAR,
    meta            JSON,                       -- <meta> name/property -> content
    structured_data JSON,                       -- JSON-LD objects
    links           JSON,                       -- same-site links
    text            VARCHAR,                    -- main text, headings kept
    error           VARCHAR,
    PRIMARY KEY (website_url, url)
);

-- The latest extraction per website, keyed so that unchanged pages are not extracted again.
CREATE TABLE extractions (
    website_url    VARCHAR PRIMARY KEY,
    extraction_key VARCHAR NOT NULL,            -- hash(content_key, extractor, data points)
    extractor      VARCHAR NOT NULL,
    extracted_at   TIMESTAMPTZ NOT NULL,
    result         JSON NOT NULL                -- {data, evidence, confidence, problems}
);

-- One row per record per run that looked at it: enriched, skipped or failed, with the reason.
CREATE TABLE enrichments (
    enrichment_id   VARCHAR PRIMARY KEY,
    customer_id     VARCHAR NOT NULL,
    run_id          VARCHAR,
    status          VARCHAR NOT NULL CHECK (status IN ('enriched', 'skipped', 'failed')),
    reason          VARCHAR,
    website_url     VARCHAR,
    extractor       VARCHAR,
    extraction_key  VARCHAR,
    credits_charged INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL
);

-- Per data point of an enrichment: the value with its evidence and confidence.
CREATE TABLE enrichment_values (
    enrichment_id  VARCHAR NOT NULL,
    data_point     VARCHAR NOT NULL,
    value          VARCHAR,                     -- NULL = unknown
    evidence_url   VARCHAR,
    evidence_quote VARCHAR,
    confidence     DOUBLE,
    PRIMARY KEY (enrichment_id, data_point)
);

CREATE TABLE credit_ledger (
    entry_id      VARCHAR PRIMARY KEY,
    created_at    TIMESTAMPTZ NOT NULL,
    delta         INTEGER NOT NULL,
    kind          VARCHAR NOT NULL CHECK (kind IN ('grant', 'top-up', 'enrichment')),
    customer_id   VARCHAR,
    enrichment_id VARCHAR UNIQUE,               -- one charge per enrichment, ever
    run_id        VARCHAR,
    note          VARCHAR
);

CREATE TABLE settings (
    key        VARCHAR PRIMARY KEY,
    value      JSON NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by VARCHAR NOT NULL
);

-- A new workspace starts with 100 credits.
INSERT INTO credit_ledger (entry_id, created_at, delta, kind, note)
VALUES ('initial-grant', now(), 100, 'grant', 'initial balance of a new workspace');

CREATE VIEW enrichment_outcomes AS
SELECT *
FROM enrichments
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC, enrichment_id) = 1;

CREATE VIEW current_enrichments AS
SELECT *
FROM enrichments
WHERE status = 'enriched'
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC, enrichment_id) = 1;
