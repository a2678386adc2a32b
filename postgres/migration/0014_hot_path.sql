-- 0014_hot_path: SQLite dropped events_txid, which only served an order
-- its txid (always 0 there) already gave. PostgreSQL keeps it: events
-- commit out of seq order across concurrent transactions, and the
-- dispatcher reads them in (txid, seq) order from this index (decision
-- 0008). Kept as a file so both backends have the same migrations.
SELECT 1;
