-- 017: a value found with less confidence than its data point's `min_confidence` is held
-- back: `value` stays NULL (unknown, as the attribute), and the value found is kept in
-- `held_value` beside its evidence, with the reason, for a person to review.
ALTER TABLE enrichment_values ADD COLUMN held_value VARCHAR;
ALTER TABLE enrichment_values ADD COLUMN reason VARCHAR;
