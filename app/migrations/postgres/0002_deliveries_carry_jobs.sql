-- Group commit: a batch of deliveries is written with one multi-row INSERT and then folded
-- into jobs by a few set-based statements in the same transaction (see
-- app/src/queue/group_commit.rs). So a delivery row now carries what its job needs, in
-- arrival order (`seq`: a batch's rows are those from its first `seq` on, as batches are
-- written one at a time).
CREATE TABLE deliveries_v2 (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    -- The job, when the delivery asks for a review (NULL for installation events).
    installation_id BIGINT,
    repo TEXT,
    pr_number BIGINT,
    head_sha TEXT,
    request TEXT,
    run_after BIGINT
);
INSERT INTO deliveries_v2 (delivery_id, event, received_at)
    SELECT delivery_id, event, received_at FROM deliveries ORDER BY received_at, delivery_id;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
CREATE INDEX deliveries_pr ON deliveries (repo, pr_number, seq);
