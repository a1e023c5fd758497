INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(1, 1000) g;
CREATE INDEX accounts_owner_idx ON accounts (owner);
