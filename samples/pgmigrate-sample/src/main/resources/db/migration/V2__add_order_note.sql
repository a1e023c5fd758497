-- Needs an ACCESS EXCLUSIVE lock on orders, however briefly: the kind of one-line migration that
-- stalls an application when a long transaction holds a lock on the table.
ALTER TABLE orders ADD COLUMN note text;
