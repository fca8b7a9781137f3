-- 011: ChartMogul as a source and a sink (enrichment_pipelines/connectors/chartmogul).
-- A customer's ChartMogul id (its `uuid` there: `enrich import chartmogul` sets it, or a
-- `chartmogul_uuid` column of an imported file); what was last sent to it, item by item (the
-- push ledger: only what differs from it is sent again); and why a customer's last push failed.

ALTER TABLE customers ADD COLUMN chartmogul_uuid VARCHAR;

CREATE TABLE chartmogul_pushed (
    customer_id     VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL CHECK (kind IN ('attribute', 'note')),
    name            VARCHAR NOT NULL,   -- the custom attribute's name; 'summary' for the note
    value           VARCHAR,            -- the value sent (NULL: removed); a note: its note_id
    chartmogul_uuid VARCHAR NOT NULL,   -- the ChartMogul customer it was sent to
    pushed_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, kind, name)
);

CREATE TABLE chartmogul_push_errors (
    customer_id     VARCHAR PRIMARY KEY,
    chartmogul_uuid VARCHAR NOT NULL,
    error           VARCHAR NOT NULL,   -- what ChartMogul answered, or why it could not be asked
    failed_at       TIMESTAMPTZ NOT NULL
);

-- Who is pushing now: one push at a time (two would both find a note missing and both send
-- it). A lease, renewed while the push runs; a killed push's lapses, or is taken over at once
-- on its own machine once its process is gone.
CREATE TABLE chartmogul_push_lease (
    singleton   BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    host        VARCHAR NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    held_until  TIMESTAMPTZ NOT NULL
);
