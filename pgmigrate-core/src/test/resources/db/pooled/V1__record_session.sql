CREATE TABLE session_seen AS SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('application_name') AS application_name, pg_backend_pid() AS pid;
