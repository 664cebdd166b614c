-- Deliveries are now folded into jobs after the commit that accepted them, not inside it
-- (see app/src/queue/fold.rs): intake is one INSERT, and folding runs in batches of its
-- own. `folded` says whether a delivery has been turned into jobs yet; every delivery
-- already recorded was folded when it was written.
ALTER TABLE deliveries ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET folded = 1;
-- Folding reads only the deliveries not folded yet.
CREATE INDEX deliveries_unfolded ON deliveries (seq) WHERE folded = 0;
