-- 005: a record of each right-to-deletion request carried out: when, by whom, and how many
-- rows went. It names no customer: that is the point.

CREATE TABLE deletions (
    deleted_at   TIMESTAMPTZ NOT NULL,
    deleted_by   VARCHAR NOT NULL,
    rows_removed INTEGER NOT NULL
);
