-- 003: what each extraction cost (LLM calls, tokens, dollars) and whether it failed. A failed
-- extraction (the LLM unreachable, say) is kept for its reason but made again on the next run.
-- Each enriched record carries the usage of the extraction it was written from.

ALTER TABLE extractions ADD COLUMN error VARCHAR;
ALTER TABLE extractions ADD COLUMN llm_calls INTEGER DEFAULT 0;
ALTER TABLE extractions ADD COLUMN prompt_tokens INTEGER DEFAULT 0;
ALTER TABLE extractions ADD COLUMN completion_tokens INTEGER DEFAULT 0;
ALTER TABLE extractions ADD COLUMN cost_usd DOUBLE DEFAULT 0;

ALTER TABLE enrichments ADD COLUMN prompt_tokens INTEGER DEFAULT 0;
ALTER TABLE enrichments ADD COLUMN completion_tokens INTEGER DEFAULT 0;
ALTER TABLE enrichments ADD COLUMN cost_usd DOUBLE DEFAULT 0;
