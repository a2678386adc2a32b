-- 0016_external_id: an index the capture wrote that another already
-- serves on SQLite. Keep the name in step with
-- postgres/migration/0016_external_id.sql (which keeps the index).
--
-- orders_external_id served the order search's match by external id on
-- any channel. The unique (channel, external_id) key serves it as well,
-- probed once per channel (sqlstore.OrderSearchExact; TestSearchExactPlan
-- pins the plan), and it is one random B-tree leaf fewer per capture
-- (decision 0017).
DROP INDEX orders_external_id;
