-- Expand step of an expand/contract change: a nullable column with a default is safe while
-- the previous app version keeps inserting orders without it.
ALTER TABLE orders ADD COLUMN status text DEFAULT 'placed';

CREATE FUNCTION order_count(customer bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM orders WHERE customer_id = customer;
$$;
