-- A delivery is the same delivery when both its X-GitHub-Delivery id and its signed body
-- are (GitHub's redeliveries repeat both): one whose id repeats an earlier one's but whose
-- body differs is a delivery of its own, and the head it announces gets its review (see
-- app/src/queue/group_commit.rs). So deliveries are unique by (delivery_id, body_sha256)
-- instead of by delivery_id, and jobs, which carry their delivery's id, no longer require
-- it to be unique. Rows written before this have an empty body_sha256 (their body was not
-- kept): a redelivery of one of them after the upgrade is taken as new, once, and
-- reviewed again.
--
-- SQLite cannot drop a column's UNIQUE constraint, so both tables are rebuilt, keeping
-- their ids (the fold cursor is a deliveries.seq) and indexes.
CREATE TABLE deliveries_v3 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL,
    -- Hex SHA-256 of the signed body.
    body_sha256 TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    installation_id INTEGER,
    repo TEXT,
    pr_number INTEGER,
    head_sha TEXT,
    request TEXT,
    run_after INTEGER,
    UNIQUE (delivery_id, body_sha256)
);
INSERT INTO deliveries_v3 (seq, delivery_id, event, received_at, installation_id, repo,
                           pr_number, head_sha, request, run_after)
    SELECT seq, delivery_id, event, received_at, installation_id, repo, pr_number, head_sha,
           request, run_after
    FROM deliveries ORDER BY seq;
DROP TABLE deliveries;
ALTER TABLE deliveries_v3 RENAME TO deliveries;
CREATE INDEX deliveries_pr ON deliveries (repo, pr_number, seq);

CREATE TABLE jobs_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL,
    installation_id INTEGER NOT NULL,
    repo TEXT NOT NULL,
    pr_number INTEGER,
    head_sha TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after INTEGER NOT NULL,
    lease_until INTEGER,
    check_run_id INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO jobs_v3 SELECT id, delivery_id, installation_id, repo, pr_number, head_sha, request,
    state, attempts, run_after, lease_until, check_run_id, last_error, created_at, updated_at
    FROM jobs ORDER BY id;
DROP TABLE jobs;
ALTER TABLE jobs_v3 RENAME TO jobs;
CREATE INDEX jobs_claim ON jobs (state, run_after, id);
CREATE INDEX jobs_pr ON jobs (repo, pr_number, state);
CREATE INDEX jobs_active ON jobs (run_after, id) WHERE state IN ('queued', 'running');
