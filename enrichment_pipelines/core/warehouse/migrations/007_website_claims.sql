-- 007: which run is crawling a website now. A run claims the sites it is about to crawl, for a
-- lease that expires (a killed run's claims lapse); concurrent runs leave claimed sites to
-- their claimant instead of crawling them twice. A claim ends when the site's pages are saved.

CREATE TABLE website_claims (
    website_url   VARCHAR PRIMARY KEY,
    run_id        VARCHAR NOT NULL,
    claimed_until TIMESTAMPTZ NOT NULL
);
