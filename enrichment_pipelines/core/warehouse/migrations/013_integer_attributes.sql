-- Integer custom attributes (a founding year, a count of open roles): the type, and a typed
-- column for their values. DuckDB cannot change a CHECK constraint in place, so the
-- definitions table is rebuilt with the wider one.
ALTER TABLE custom_attributes ADD COLUMN value_integer BIGINT;

CREATE TABLE attribute_definitions_with_integer (
    name        VARCHAR PRIMARY KEY,
    type        VARCHAR NOT NULL CHECK (type IN ('String', 'Boolean', 'Integer')),
    source      VARCHAR NOT NULL CHECK (source IN ('enrichment', 'user')),
    description VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL
);
INSERT INTO attribute_definitions_with_integer
SELECT name, type, source, description, created_at FROM attribute_definitions;
DROP TABLE attribute_definitions;
ALTER TABLE attribute_definitions_with_integer RENAME TO attribute_definitions;
