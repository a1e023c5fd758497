-- two steps: the first applies, the second waits for a lock; a restart in between must leave neither
ALTER TABLE audit ADD COLUMN note text;
ALTER TABLE orders ADD COLUMN note text;
