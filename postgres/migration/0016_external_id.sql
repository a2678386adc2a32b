-- 0016_external_id: SQLite dropped orders_external_id (its planner probes
-- the unique (channel, external_id) key once per channel instead).
-- PostgreSQL keeps it: its planner cannot probe that key through the
-- search's IN subquery inside a bitmap OR, and without this index the
-- search by external id reads the whole table. Kept as a file so both
-- backends have the same migrations.
SELECT 1;
