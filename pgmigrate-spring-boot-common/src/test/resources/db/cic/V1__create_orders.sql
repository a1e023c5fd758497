CREATE TABLE orders (id int PRIMARY KEY, total int);
INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 100) g;
