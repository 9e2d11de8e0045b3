-- 0101 Orders coverage: an ops.orders_window row means the window was read to its last page
-- and every order the API returned was found in raw.orders for the store (written only then).

ALTER TABLE ops.orders_window ADD COLUMN IF NOT EXISTS orders_api text;        -- v0 or 2026-01-01
ALTER TABLE ops.orders_window ADD COLUMN IF NOT EXISTS orders_returned integer; -- sum of page sizes (duplicates included)
COMMENT ON TABLE ops.orders_window IS 'One row per store and orders window read completely (last page reached, orders loaded = distinct orders returned); an interrupted read leaves no row.';
COMMENT ON COLUMN ops.orders_window.orders IS 'Distinct orders the API returned for the window, each verified in raw.orders for the store.';
COMMENT ON COLUMN ops.orders_window.pages IS 'Pages read (getOrders or searchOrders calls that succeeded).';
