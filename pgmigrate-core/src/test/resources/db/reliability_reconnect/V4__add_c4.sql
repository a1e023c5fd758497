ALTER TABLE orders ADD COLUMN c4 int;
-- holds the table a while, so the terminated client has time to reconnect and queue for its lock again
SELECT pg_sleep(0.5);
