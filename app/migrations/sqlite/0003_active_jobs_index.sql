-- Claiming walks only the jobs still to run, in due order, and stops at the first it may
-- take; done, failed and superseded jobs (most of the table, over time) are never read.
-- The claim query repeats this WHERE term word for word so that SQLite uses the index.
CREATE INDEX jobs_active ON jobs (run_after, id) WHERE state IN ('queued', 'running');
