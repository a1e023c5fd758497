ALTER TABLE orders ADD COLUMN c2 int;
-- keeps the table until the terminated client has reconnected and queued for its lock again (the test
-- defines the function): so the client holds the lock again when the next migration starts
SELECT await_queued_blocker();
