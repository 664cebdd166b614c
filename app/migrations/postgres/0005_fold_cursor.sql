-- Folding keeps one cursor, the `seq` of the last delivery folded, instead of a `folded`
-- flag on every delivery (see app/src/queue/fold.rs): the flag cost a partial-index entry
-- per accepted delivery and a second write of every delivery row when it was folded.
-- Deliveries not folded yet are always the newest ones (a fold takes all that were
-- committed), so the cursor starts just below the first of them.
CREATE TABLE fold_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO fold_cursor (id, last_seq) VALUES (1, COALESCE(
    (SELECT MIN(seq) - 1 FROM deliveries WHERE folded = 0),
    (SELECT MAX(seq) FROM deliveries),
    0));
DROP INDEX deliveries_unfolded;
ALTER TABLE deliveries DROP COLUMN folded;
