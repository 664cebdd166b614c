-- Group commit: a batch of deliveries is written with one multi-row INSERT and then folded
-- into jobs by a few set-based statements in the same transaction (see
-- app/src/queue/group_commit.rs). So a delivery row now carries what its job needs, in
-- arrival order (`seq`), and `folded` says whether it has been turned into a job yet
-- (always 1 outside the writer's transaction).
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
    run_after BIGINT,
    folded INTEGER NOT NULL DEFAULT 0
);
INSERT INTO deliveries_v2 (delivery_id, event, received_at, folded)
    SELECT delivery_id, event, received_at, 1 FROM deliveries ORDER BY received_at, delivery_id;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
CREATE INDEX deliveries_unfolded ON deliveries (repo, pr_number, seq) WHERE folded = 0;
