CREATE TABLE session_seen AS SELECT current_setting('client_connection_check_interval') AS check_interval, current_setting('application_name') AS application_name, pg_backend_pid() AS pid;
