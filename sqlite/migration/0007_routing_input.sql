-- 0007_routing_input: each routing decision keeps what routing was given
-- (the request and the candidates with their availability, a
-- routing.Case as JSON), so that POST /api/v1/routing/simulate can replay
-- an order against the stock it saw. NULL for decisions written before.
-- Keep in step with postgres/migration/0007_routing_input.sql; see
-- docs/decisions/0005-routing.md.
ALTER TABLE routing_decisions ADD COLUMN input TEXT;
