-- 016: pages now keep their whole document (`assets.markup`, capped) and their <base href>,
-- which the technology fingerprints read, and their addresses resolve against that base.
-- A page stored before has neither: its assets are dropped, so it counts as stale
-- (`websites_to_crawl`), and its validators too, so that the next crawl fetches it whole
-- rather than hearing "304 Not Modified" and keeping the page as it was parsed before.
UPDATE scraped_pages
SET assets = NULL, etag = NULL, last_modified = NULL
WHERE assets IS NOT NULL AND json_extract(assets, '$.markup') IS NULL;
