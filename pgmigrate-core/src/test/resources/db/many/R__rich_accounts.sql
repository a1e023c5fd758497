CREATE OR REPLACE VIEW rich_accounts AS SELECT * FROM accounts WHERE balance > 100;
