-- 0004_webhooks: the inbound webhook deliveries already processed, to drop
-- a platform's retries of one delivery. Keep in step with
-- sqlite/migration/0004_webhooks.sql.
--
-- A delivery is recorded in the transaction that applies it (the order it
-- captures, the cancellation it causes), so a crash cannot mark an
-- unprocessed delivery as done. Rows older than a week are purged: the
-- platforms stop retrying long before (Shopify: 48 hours).

CREATE TABLE webhook_deliveries (
    channel     text COLLATE "C" NOT NULL REFERENCES channels (code),
    delivery_id text NOT NULL,
    topic       text NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (channel, delivery_id)
);

CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at);
