ALTER TABLE orders ADD COLUMN email text;
CREATE TABLE session_seen AS
SELECT current_setting('application_name') AS application_name,
       current_setting('lock_timeout') AS lock_timeout,
       current_setting('client_connection_check_interval', true) AS connection_check;
