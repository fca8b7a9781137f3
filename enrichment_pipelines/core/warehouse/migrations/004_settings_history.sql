-- 004: every change to the settings is kept, with who or what made it and when (the audit
-- trail); `settings` keeps the current value.

CREATE TABLE settings_history (
    key        VARCHAR NOT NULL,
    value      JSON NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    changed_by VARCHAR NOT NULL
);

INSERT INTO settings_history SELECT key, value, updated_at, updated_by FROM settings;
