-- The process holding each claim (host, process id and its start time), so that a run on
-- the same host can tell a claim of a killed run, void at once, from a live run's.
ALTER TABLE website_claims ADD COLUMN claimed_by VARCHAR;
