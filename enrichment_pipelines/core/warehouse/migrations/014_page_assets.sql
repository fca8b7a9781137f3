-- 014: what a page's markup and response say beyond its text (scripts, stylesheets, icons,
-- logo candidates, the raw head capped, response headers, cookie names): the material of the
-- technology, logo and social profile extractors. Pages stored before have none: they count
-- as stale (`websites_to_crawl`), and lose their validators, so that the next crawl fetches
-- them whole rather than hearing "304 Not Modified" and keeping the page without assets.
ALTER TABLE scraped_pages ADD COLUMN assets JSON;
UPDATE scraped_pages SET etag = NULL, last_modified = NULL;
