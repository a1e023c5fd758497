-- outside a transaction: the first step commits on its own, the second waits for a lock
ALTER TABLE audit ADD COLUMN note text;
ALTER TABLE orders ADD COLUMN note text;
