-- 0015_location_day_orders: how many orders each location with a daily
-- capacity took each day, kept as a count instead of counted on every
-- capture. Keep in step with postgres/migration/0015_location_day_orders.sql.
--
-- Routing reads, on every capture once any location has a daily
-- capacity, how many distinct orders each took today (migration 0003).
-- It was counted from today's allocations (allocations_created_at): a
-- read that grew with every order of the day. Now triggers keep the
-- count as allocations come and go — for locations whose daily_capacity
-- is above 0 only, so that no other capture pays for it — and a location
-- whose capacity is switched on is counted once from its allocations.
-- The count is what the old query gave: the distinct orders with an
-- allocation at the location created that UTC day, released ones
-- included (they were taken).
CREATE TABLE location_day_orders (
    location TEXT NOT NULL,
    day      TEXT NOT NULL, -- YYYY-MM-DD (UTC): the day of the allocations' created_at
    orders   INTEGER NOT NULL CHECK (orders >= 0),
    PRIMARY KEY (location, day)
) STRICT, WITHOUT ROWID;

INSERT INTO location_day_orders (location, day, orders)
    SELECT a.location, substr(a.created_at, 1, 10), count(DISTINCT a.order_id)
    FROM allocations a JOIN locations l ON l.code = a.location
    WHERE l.daily_capacity > 0
    GROUP BY a.location, substr(a.created_at, 1, 10);

-- An order's first allocation at a location on a day counts it (the
-- order's other allocations are found through allocations_order_id).
CREATE TRIGGER allocations_count_day AFTER INSERT ON allocations
WHEN (SELECT daily_capacity FROM locations WHERE code = new.location) > 0
    AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.order_id = new.order_id AND a.location = new.location
        AND substr(a.created_at, 1, 10) = substr(new.created_at, 1, 10) AND a.id <> new.id)
BEGIN
    INSERT INTO location_day_orders (location, day, orders) VALUES (new.location, substr(new.created_at, 1, 10), 1)
        ON CONFLICT (location, day) DO UPDATE SET orders = orders + 1;
END;

-- Allocations are deleted only when a capture is taken back (a duplicate
-- order): its last one at a location on a day uncounts it.
CREATE TRIGGER allocations_uncount_day AFTER DELETE ON allocations
WHEN NOT EXISTS (SELECT 1 FROM allocations a WHERE a.order_id = old.order_id AND a.location = old.location
        AND substr(a.created_at, 1, 10) = substr(old.created_at, 1, 10))
BEGIN
    UPDATE location_day_orders SET orders = orders - 1
        WHERE location = old.location AND day = substr(old.created_at, 1, 10) AND orders > 0;
END;

-- A capacity switched on counts the location's allocations, every day;
-- switched off, its counts go (nothing keeps them while it is off).
CREATE TRIGGER locations_count_days AFTER UPDATE OF daily_capacity ON locations
WHEN old.daily_capacity = 0 AND new.daily_capacity > 0
BEGIN
    INSERT INTO location_day_orders (location, day, orders)
        SELECT location, substr(created_at, 1, 10), count(DISTINCT order_id) FROM allocations
        WHERE location = new.code GROUP BY substr(created_at, 1, 10)
        ON CONFLICT (location, day) DO UPDATE SET orders = excluded.orders;
END;

CREATE TRIGGER locations_uncount_days AFTER UPDATE OF daily_capacity ON locations
WHEN old.daily_capacity > 0 AND new.daily_capacity = 0
BEGIN
    DELETE FROM location_day_orders WHERE location = new.code;
END;

-- Nothing else reads allocations by their creation time.
DROP INDEX allocations_created_at;
