-- 0011_order_policy: the channel policy in force when an order was placed,
-- copied onto the order, and what the channel itself reported about the
-- order (its own status, its payment status, its totals). Keep in step with
-- postgres/migration/0011_order_policy.sql; see
-- docs/decisions/0011-import-and-pos.md.

-- policy is a JSON channel.Policy, NULL for orders captured before policies
-- were copied (their policy in force is not known). reported_totals is a
-- JSON order.Totals, NULL when the channel reported none.
ALTER TABLE orders ADD COLUMN policy TEXT;
ALTER TABLE orders ADD COLUMN channel_status TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN financial_status TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN reported_totals TEXT;

-- The policy gained refunds, confirm_shipment_within_hours and
-- may_email_customer: existing channels get the defaults (the keys they
-- already have win).
UPDATE channels SET policy = json_patch(
    '{"refunds":"merchant","confirm_shipment_within_hours":0,"may_email_customer":true}', policy);
