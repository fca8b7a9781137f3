-- 009: who may do what (users with a role and an API token, stored as a salted hash only),
-- and an audit trail of every change made through the HTTP API or the staff page.

CREATE TABLE users (
    name        VARCHAR PRIMARY KEY,
    role        VARCHAR NOT NULL CHECK (role IN ('staff', 'admin', 'owner')),
    token_salt  VARCHAR NOT NULL,
    token_hash  VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  VARCHAR NOT NULL,
    rotated_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE audit_log (
    happened_at TIMESTAMPTZ NOT NULL,
    actor   VARCHAR NOT NULL,   -- "alice (staff)", or the CLI's "enrich users (root)"
    action  VARCHAR NOT NULL,   -- "customer.enrich", "settings.update", "credits.top_up", ...
    target  VARCHAR,            -- what it acted on: a customer id, a data point, a user name
    detail  JSON                -- what changed, as the request gave it
);
