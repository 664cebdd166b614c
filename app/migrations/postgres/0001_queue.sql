-- lockwatch's durable job queue (PostgreSQL, for several replicas sharing the load).
-- The same tables, columns and meaning as migrations/sqlite/0001_queue.sql; times are
-- milliseconds since the Unix epoch.

-- Every accepted webhook delivery, by GitHub's X-GitHub-Delivery GUID (redeliveries keep it).
CREATE TABLE deliveries (
    delivery_id TEXT PRIMARY KEY NOT NULL,
    event TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

-- One review to run. `state`: queued, running, done, failed, superseded.
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    installation_id BIGINT NOT NULL,
    repo TEXT NOT NULL,
    pr_number BIGINT,
    head_sha TEXT NOT NULL,
    -- JSON of the job's request (trigger, base sha, ...); never a whole payload.
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    lease_until BIGINT,
    check_run_id BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_claim ON jobs (state, run_after, id);
CREATE INDEX jobs_pr ON jobs (repo, pr_number, state);

-- The newest head SHA seen per pull request: a job for another head must not publish.
CREATE TABLE pr_heads (
    repo TEXT NOT NULL,
    pr_number BIGINT NOT NULL,
    head_sha TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repo, pr_number)
);

-- Installation bookkeeping from installation* events.
CREATE TABLE installations (
    id BIGINT PRIMARY KEY NOT NULL,
    account TEXT NOT NULL,
    last_action TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
