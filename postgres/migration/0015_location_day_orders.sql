-- 0015_location_day_orders: how many orders each location with a daily
-- capacity took each day, kept as a count instead of counted on every
-- capture. Keep in step with sqlite/migration/0015_location_day_orders.sql,
-- which says why; here the allocation triggers are per statement (one
-- call per INSERT or DELETE, with its rows as a transition table), and
-- they return at once while no location has a daily capacity, so that
-- captures pay nothing for a count nobody reads. Only captures at a
-- location with a capacity update its count row: they queue on that row
-- until each commits, which caps such a location's intake at the rate of
-- commits (hundreds a second; a location with a daily capacity takes far
-- fewer orders than that).
CREATE TABLE location_day_orders (
    location text COLLATE "C" NOT NULL,
    day      date NOT NULL, -- UTC: the day of the allocations' created_at
    orders   bigint NOT NULL CHECK (orders >= 0),
    PRIMARY KEY (location, day)
);

INSERT INTO location_day_orders (location, day, orders)
    SELECT a.location, (a.created_at AT TIME ZONE 'UTC')::date, count(DISTINCT a.order_id)
    FROM allocations a JOIN locations l ON l.code = a.location
    WHERE l.daily_capacity > 0
    GROUP BY 1, 2;

CREATE FUNCTION allocations_count_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM locations WHERE daily_capacity > 0) THEN
        RETURN NULL;
    END IF;
    INSERT INTO location_day_orders AS d (location, day, orders)
        SELECT n.location, (n.created_at AT TIME ZONE 'UTC')::date, count(DISTINCT n.order_id)
        FROM new_allocations n JOIN locations l ON l.code = n.location AND l.daily_capacity > 0
        WHERE NOT EXISTS (SELECT 1 FROM allocations a WHERE a.order_id = n.order_id AND a.location = n.location
            AND (a.created_at AT TIME ZONE 'UTC')::date = (n.created_at AT TIME ZONE 'UTC')::date
            AND a.id NOT IN (SELECT id FROM new_allocations))
        GROUP BY 1, 2
        ON CONFLICT (location, day) DO UPDATE SET orders = d.orders + excluded.orders;
    RETURN NULL;
END $$;

CREATE TRIGGER allocations_count_day AFTER INSERT ON allocations
    REFERENCING NEW TABLE AS new_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION allocations_count_day();

CREATE FUNCTION allocations_uncount_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE location_day_orders d SET orders = d.orders - g.n
        FROM (SELECT o.location, (o.created_at AT TIME ZONE 'UTC')::date AS day, count(DISTINCT o.order_id) AS n
            FROM old_allocations o
            WHERE NOT EXISTS (SELECT 1 FROM allocations a WHERE a.order_id = o.order_id AND a.location = o.location
                AND (a.created_at AT TIME ZONE 'UTC')::date = (o.created_at AT TIME ZONE 'UTC')::date)
            GROUP BY 1, 2) AS g
        WHERE d.location = g.location AND d.day = g.day AND d.orders >= g.n;
    RETURN NULL;
END $$;

CREATE TRIGGER allocations_uncount_day AFTER DELETE ON allocations
    REFERENCING OLD TABLE AS old_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION allocations_uncount_day();

CREATE FUNCTION locations_count_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.daily_capacity = 0 AND NEW.daily_capacity > 0 THEN
        INSERT INTO location_day_orders AS d (location, day, orders)
            SELECT location, (created_at AT TIME ZONE 'UTC')::date, count(DISTINCT order_id) FROM allocations
            WHERE location = NEW.code GROUP BY 1, 2
            ON CONFLICT (location, day) DO UPDATE SET orders = excluded.orders;
    ELSIF OLD.daily_capacity > 0 AND NEW.daily_capacity = 0 THEN
        DELETE FROM location_day_orders WHERE location = NEW.code;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER locations_count_days AFTER UPDATE OF daily_capacity ON locations
    FOR EACH ROW EXECUTE FUNCTION locations_count_days();

DROP INDEX allocations_created_at;
