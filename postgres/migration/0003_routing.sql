-- 0003_routing: the locations' routing attributes, versioned routing rule
-- sets, and the routing decisions (explanations) of orders. Keep in step
-- with sqlite/migration/0003_routing.sql. Conventions as in 0001_init.sql.

-- Routing attributes of a location (see docs/decisions/0005-routing.md):
-- priority ranks lower first; ships_to lists country codes, empty for
-- anywhere; modes lists ship, pickup, ship_from_store; daily_capacity
-- counts orders per UTC day, 0 for no limit.
ALTER TABLE locations
    ADD COLUMN priority integer NOT NULL DEFAULT 100,
    ADD COLUMN ships_to jsonb NOT NULL DEFAULT '[]', -- []string
    ADD COLUMN modes jsonb NOT NULL DEFAULT '[]', -- []string
    ADD COLUMN daily_capacity integer NOT NULL DEFAULT 0 CHECK (daily_capacity >= 0),
    ADD COLUMN cost_per_shipment bigint NOT NULL DEFAULT 0 CHECK (cost_per_shipment >= 0);
UPDATE locations SET modes = CASE kind WHEN 'store' THEN '["ship","ship_from_store","pickup"]'::jsonb ELSE '["ship"]'::jsonb END;

-- routing_rule_sets: every version of the routing rules. body is the JSON
-- routing.RuleSet (its version, status and created_at are the columns').
-- At most one version is active; when none is, routing.DefaultRuleSet
-- applies.
CREATE TABLE routing_rule_sets (
    version      integer PRIMARY KEY,
    status       text NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    body         jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    activated_at timestamptz -- NULL until first activated
);

CREATE UNIQUE INDEX routing_rule_sets_one_active ON routing_rule_sets (status) WHERE status = 'active';

-- routing_decisions: the receipt of each time an order was routed (capture,
-- release): the rule-set version and the routing.Explanation. explanation
-- is json, not jsonb, so that its bytes (and key order) are kept as
-- written. order_id is checked at commit, like allocations'.
CREATE TABLE routing_decisions (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    text NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    version     integer NOT NULL,
    explanation json NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE INDEX routing_decisions_order_id ON routing_decisions (order_id, seq);

-- Daily capacity: the orders each location took since the start of the day.
CREATE INDEX allocations_created_at ON allocations (created_at);
