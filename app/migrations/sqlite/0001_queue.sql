-- lockwatch's durable job queue (SQLite).

-- Every accepted webhook delivery, by GitHub's X-GitHub-Delivery GUID (redeliveries keep it).
CREATE TABLE deliveries (
    delivery_id TEXT PRIMARY KEY NOT NULL,
    event TEXT NOT NULL,
    received_at INTEGER NOT NULL
);

-- One review to run. `state`: queued, running, done, failed, superseded.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    installation_id INTEGER NOT NULL,
    repo TEXT NOT NULL,
    pr_number INTEGER,
    head_sha TEXT NOT NULL,
    -- JSON of the job's request (trigger, base sha, ...); never a whole payload.
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
CREATE INDEX jobs_claim ON jobs (state, run_after, id);
CREATE INDEX jobs_pr ON jobs (repo, pr_number, state);

-- The newest head SHA seen per pull request: a job for another head must not publish.
CREATE TABLE pr_heads (
    repo TEXT NOT NULL,
    pr_number INTEGER NOT NULL,
    head_sha TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repo, pr_number)
);

-- Installation bookkeeping from installation* events.
CREATE TABLE installations (
    id INTEGER PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    last_action TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
