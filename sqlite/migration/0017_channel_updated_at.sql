-- 0017_channel_updated_at: when the channel last changed the order, as the
-- channel said it (Shopify's updated_at, WooCommerce's date_modified_gmt,
-- Amazon's LastUpdateDate). A channel's update older than this one is
-- recorded on the timeline but not applied: platforms deliver webhooks and
-- polls out of order. NULL when no channel said (orders from the API, the
-- point of sale, imports, and orders captured before this migration).
-- Keep in step with postgres/migration/0017_channel_updated_at.sql; see
-- docs/decisions/0007-connectors.md.
ALTER TABLE orders ADD COLUMN channel_updated_at TEXT;
