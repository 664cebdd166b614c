-- A delivery is the same delivery when both its X-GitHub-Delivery id and its signed body
-- are (GitHub's redeliveries repeat both): one whose id repeats an earlier one's but whose
-- body differs is a delivery of its own, and the head it announces gets its review (see
-- app/src/queue/group_commit.rs). So deliveries are unique by (delivery_id, body_sha256)
-- instead of by delivery_id, and jobs, which carry their delivery's id, no longer require
-- it to be unique. Rows written before this have an empty body_sha256 (their body was not
-- kept): a redelivery of one of them after the upgrade is taken as new, once, and
-- reviewed again. (The same as migrations/sqlite/0006_dedupe_by_body.sql.)
ALTER TABLE deliveries ADD COLUMN body_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_v2_delivery_id_key;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_delivery_id_body_sha256_key
    UNIQUE (delivery_id, body_sha256);
ALTER TABLE jobs DROP CONSTRAINT jobs_delivery_id_key;
