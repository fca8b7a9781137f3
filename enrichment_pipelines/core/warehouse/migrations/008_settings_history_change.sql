-- 008: what each settings change changed ("is_saas.attribute: is_saas_enriched -> x"),
-- recorded when it is made. The stored values alone do not say it reliably: two saves in one
-- transaction got the same time, so neighbouring rows could be paired wrongly. Earlier rows
-- keep NULL (not recorded).

ALTER TABLE settings_history ADD COLUMN change VARCHAR;
