-- 014: what a page's markup and response say beyond its text (scripts, stylesheets, icons,
-- logo candidates, the raw head capped, response headers, cookie names): the material of the
-- technology, logo and social profile extractors. Pages stored before have none until their
-- next crawl.
ALTER TABLE scraped_pages ADD COLUMN assets JSON;
