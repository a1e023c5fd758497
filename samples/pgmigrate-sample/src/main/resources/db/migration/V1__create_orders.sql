CREATE TABLE orders (
    id         bigint PRIMARY KEY,
    customer   text        NOT NULL,
    total      numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO orders (id, customer, total)
SELECT g, 'customer-' || (g % 500), (g % 1000) / 10.0
FROM generate_series(1, 10000) AS g;
