"""Bringing customers up to date under a policy: crawl -> extract -> apply.

The three steps communicate only through the warehouse, so each can be retried on its own and
a run killed half way resumes where it stopped:

- `save_crawls` stores each site's latest pages (the crawl itself happens outside any
  transaction, in `core.crawl`);
- `extract_sites` extracts data points for sites whose pages, extractor or enabled data points
  changed since the last extraction (unchanged sites are not extracted again);
- `apply_enrichments` writes each record's result: enrichment, values with evidence, custom
  attributes with history, summary note and the credit charge, in one transaction per batch
  of records. A record already brought up to date under the policy is not touched again, so a
  retried or resumed run never charges twice.

Which records a run looks at is the policy (`policy`); the pages are stored and read in
`pages`, extracted in `extract` and written to the records in `apply`.
"""
