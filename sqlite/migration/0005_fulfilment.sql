-- 0005_fulfilment: fulfilment orders (what each location is asked to ship
-- for an order) and shipments (what left, with its tracking). Keep in step
-- with postgres/migration/0005_fulfilment.sql. Conventions as in
-- 0001_init.sql. See docs/decisions/0006-fulfilment-and-carriers.md.

-- fulfilment_orders: one per (order, location) of a routing. lines is the
-- JSON []fulfilment.Line (line_id, sku, quantity, shipped, rejected,
-- cancelled); the open quantity of a line is still reserved at the
-- location by the order's allocations there. ids are UUIDv7, so id order
-- is creation order: lists page by id.
CREATE TABLE fulfilment_orders (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES orders (id),
    location      TEXT NOT NULL REFERENCES locations (code),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'requested', 'accepted', 'picking', 'packed', 'shipped', 'rejected', 'cancelled')),
    reject_reason TEXT NOT NULL, -- '' when never rejected
    lines         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL
) STRICT;

CREATE INDEX fulfilment_orders_order_id ON fulfilment_orders (order_id);
CREATE INDEX fulfilment_orders_location ON fulfilment_orders (location, status, id);
CREATE INDEX fulfilment_orders_status ON fulfilment_orders (status, id);

-- shipments: one per parcel. lines is the JSON []fulfilment.ShipmentLine,
-- events the JSON []fulfilment.TrackingEvent (oldest first).
CREATE TABLE shipments (
    id                  TEXT PRIMARY KEY,
    fulfilment_order_id TEXT NOT NULL REFERENCES fulfilment_orders (id),
    order_id            TEXT NOT NULL REFERENCES orders (id),
    location            TEXT NOT NULL REFERENCES locations (code),
    carrier             TEXT NOT NULL,
    service             TEXT NOT NULL,
    tracking_number     TEXT NOT NULL,
    label               TEXT NOT NULL,
    lines               TEXT NOT NULL,
    status              TEXT NOT NULL,
    events              TEXT NOT NULL,
    delivered_at        TEXT, -- NULL until delivered
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    version             INTEGER NOT NULL
) STRICT;

CREATE INDEX shipments_order_id ON shipments (order_id);
CREATE INDEX shipments_tracking_number ON shipments (tracking_number);
