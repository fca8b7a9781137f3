"""Bringing customers up to date under a policy: crawl -> extract -> apply, as one stream.

`stream.enrich_shard` runs a shard run's work: sites are crawled concurrently, each finished
site's pages are saved and extracted while others are still being crawled, and its customers'
records are written with their credits as soon as its extraction is saved, each round of
writes in one short transaction. A run may do only some of the stages (`Stages`), from what
the warehouse holds.

- `pages` stores each site's latest pages and the claims that keep two runs from crawling one
  site at once;
- `extract` extracts data points in a pool, and only for sites whose pages, extractor or
  enabled data points changed since the last extraction;
- `apply` writes each record's result: enrichment, values with evidence, custom attributes
  with history, summary note and the credit charge, in the transaction of its round. A record
  already brought up to date under the policy is not touched again, so a retried or resumed
  run never charges twice.

Which records a run looks at is the policy (`policy`).
"""
