-- 0003_routing: the locations' routing attributes, versioned routing rule
-- sets, and the routing decisions (explanations) of orders. Keep in step
-- with postgres/migration/0003_routing.sql. Conventions as in 0001_init.sql.

-- Routing attributes of a location (see docs/decisions/0005-routing.md):
-- priority ranks lower first; ships_to is a JSON array of country codes,
-- empty for anywhere; modes a JSON array of ship, pickup, ship_from_store;
-- daily_capacity counts orders per UTC day, 0 for no limit.
ALTER TABLE locations ADD COLUMN priority INTEGER NOT NULL DEFAULT 100;
ALTER TABLE locations ADD COLUMN ships_to TEXT NOT NULL DEFAULT '[]';
ALTER TABLE locations ADD COLUMN modes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE locations ADD COLUMN daily_capacity INTEGER NOT NULL DEFAULT 0 CHECK (daily_capacity >= 0);
ALTER TABLE locations ADD COLUMN cost_per_shipment INTEGER NOT NULL DEFAULT 0 CHECK (cost_per_shipment >= 0);
UPDATE locations SET modes = CASE kind WHEN 'store' THEN '["ship","ship_from_store","pickup"]' ELSE '["ship"]' END;

-- routing_rule_sets: every version of the routing rules. body is the JSON
-- routing.RuleSet (its version, status and created_at are the columns').
-- At most one version is active; when none is, routing.DefaultRuleSet
-- applies.
CREATE TABLE routing_rule_sets (
    version      INTEGER PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    activated_at TEXT -- NULL until first activated
) STRICT;

CREATE UNIQUE INDEX routing_rule_sets_one_active ON routing_rule_sets (status) WHERE status = 'active';

-- routing_decisions: the receipt of each time an order was routed (capture,
-- release): the rule-set version and the routing.Explanation, as JSON text
-- kept byte for byte. order_id is checked at commit, like allocations'.
CREATE TABLE routing_decisions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    version     INTEGER NOT NULL,
    explanation TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE INDEX routing_decisions_order_id ON routing_decisions (order_id, seq);

-- Daily capacity: the orders each location took since the start of the day.
CREATE INDEX allocations_created_at ON allocations (created_at);
