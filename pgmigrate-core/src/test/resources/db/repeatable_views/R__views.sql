CREATE OR REPLACE VIEW order_view AS SELECT id, total, total * 2 AS doubled FROM orders;
