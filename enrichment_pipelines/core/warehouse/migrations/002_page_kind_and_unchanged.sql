-- 002: what kind of page each scraped page is (home, about, pricing...), and whether a
-- re-crawl found it unchanged (HTTP 304 or the same content hash). 001 kept the kind in
-- meta.__kind__; it moves to its own column.

ALTER TABLE scraped_pages ADD COLUMN kind VARCHAR DEFAULT 'home';
ALTER TABLE scraped_pages ADD COLUMN unchanged BOOLEAN DEFAULT false;
UPDATE scraped_pages
SET kind = coalesce(meta->>'__kind__', 'home'), meta = json_remove(meta, '$.__kind__');
