-- 006: who is in each saved segment, with history: one row per stay, `left_at` set when the
-- customer leaves (a customer who comes back gets a new row).

CREATE TABLE segment_memberships (
    segment     VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    entered_at  TIMESTAMPTZ NOT NULL,
    left_at     TIMESTAMPTZ
);
