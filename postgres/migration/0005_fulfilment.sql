-- 0005_fulfilment: fulfilment orders (what each location is asked to ship
-- for an order) and shipments (what left, with its tracking). Keep in step
-- with sqlite/migration/0005_fulfilment.sql. Conventions as in
-- 0001_init.sql. See docs/decisions/0006-fulfilment-and-carriers.md.

-- fulfilment_orders: one per (order, location) of a routing. lines holds
-- []fulfilment.Line (line_id, sku, quantity, shipped, rejected,
-- cancelled); the open quantity of a line is still reserved at the
-- location by the order's allocations there. ids are UUIDv7, so id order
-- is creation order: lists page by id.
CREATE TABLE fulfilment_orders (
    id            text COLLATE "C" PRIMARY KEY,
    order_id      text NOT NULL REFERENCES orders (id),
    location      text COLLATE "C" NOT NULL REFERENCES locations (code),
    status        text NOT NULL CHECK (status IN ('pending', 'requested', 'accepted', 'picking', 'packed', 'shipped', 'rejected', 'cancelled')),
    reject_reason text NOT NULL, -- '' when never rejected
    lines         jsonb NOT NULL, -- []fulfilment.Line
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint NOT NULL
);

CREATE INDEX fulfilment_orders_order_id ON fulfilment_orders (order_id);
CREATE INDEX fulfilment_orders_location ON fulfilment_orders (location, status, id);
CREATE INDEX fulfilment_orders_status ON fulfilment_orders (status, id);

-- shipments: one per parcel.
CREATE TABLE shipments (
    id                  text COLLATE "C" PRIMARY KEY,
    fulfilment_order_id text COLLATE "C" NOT NULL REFERENCES fulfilment_orders (id),
    order_id            text NOT NULL REFERENCES orders (id),
    location            text COLLATE "C" NOT NULL REFERENCES locations (code),
    carrier             text NOT NULL,
    service             text NOT NULL,
    tracking_number     text NOT NULL,
    label               text NOT NULL,
    lines               jsonb NOT NULL, -- []fulfilment.ShipmentLine
    status              text NOT NULL,
    events              jsonb NOT NULL, -- []fulfilment.TrackingEvent, oldest first
    delivered_at        timestamptz, -- NULL until delivered
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             bigint NOT NULL
);

CREATE INDEX shipments_order_id ON shipments (order_id);
CREATE INDEX shipments_tracking_number ON shipments (tracking_number);
