-- 0011_order_policy: the channel policy in force when an order was placed,
-- copied onto the order, and what the channel itself reported about the
-- order (its own status, its payment status, its totals). Keep in step with
-- sqlite/migration/0011_order_policy.sql; see
-- docs/decisions/0011-import-and-pos.md.

-- policy is a channel.Policy, NULL for orders captured before policies were
-- copied (their policy in force is not known). reported_totals is an
-- order.Totals, NULL when the channel reported none.
ALTER TABLE orders ADD COLUMN policy jsonb;
ALTER TABLE orders ADD COLUMN channel_status text NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN financial_status text NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN reported_totals jsonb;

-- The policy gained refunds, confirm_shipment_within_hours and
-- may_email_customer: existing channels get the defaults (the keys they
-- already have win).
UPDATE channels SET policy =
    '{"refunds":"merchant","confirm_shipment_within_hours":0,"may_email_customer":true}'::jsonb || policy;
