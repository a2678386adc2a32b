-- 0002_inventory: the stock ledger and balances, allocations, reconciliation
-- reports, and the locations that feed each channel. Keep in step with
-- sqlite/migration/0002_inventory.sql. Conventions as in 0001_init.sql; SKU
-- and location codes, which balances are ordered and paged by, and report
-- ids are COLLATE "C".

-- channels.locations lists the codes of the locations whose stock a channel
-- sells; empty means every active location.
ALTER TABLE channels ADD COLUMN locations jsonb NOT NULL DEFAULT '[]'; -- []string

-- stock_movements is the ledger: one immutable row per change of on-hand or
-- reserved stock. Every balance is the sum of its movements. seq comes from
-- an identity and is never reused; concurrent transactions may commit out
-- of seq order.
CREATE TABLE stock_movements (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             text NOT NULL UNIQUE,
    sku            text COLLATE "C" NOT NULL REFERENCES skus (sku),
    location       text COLLATE "C" NOT NULL REFERENCES locations (code),
    delta_on_hand  bigint NOT NULL,
    delta_reserved bigint NOT NULL,
    reason         text NOT NULL,
    reference      text NOT NULL,
    actor          text NOT NULL,
    at             timestamptz NOT NULL
);

-- One balance's ledger, newest first; and what moved at a location since a
-- count was taken.
CREATE INDEX stock_movements_location_sku_seq ON stock_movements (location, sku, seq);
CREATE INDEX stock_movements_location_at ON stock_movements (location, at);

-- stock_balances holds the current stock of each (sku, location) that has
-- ever moved or had a safety stock set. It changes only together with a
-- movement, by one guarded UPDATE (see store/sqlstore/stock.go), which is
-- safe at READ COMMITTED; the CHECKs are the last line of defence behind
-- the guards. Keyed by sku first: availability is read by SKU across
-- locations. The balances are updated far more often than inserted, and no
-- updated column is indexed: the fill factor leaves room on each page for
-- HOT updates, which touch neither index.
CREATE TABLE stock_balances (
    sku          text COLLATE "C" NOT NULL REFERENCES skus (sku),
    location     text COLLATE "C" NOT NULL REFERENCES locations (code),
    on_hand      bigint NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved     bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    safety_stock bigint NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (sku, location)
) WITH (fillfactor = 80);

-- Listing a location's balances.
CREATE INDEX stock_balances_location_sku ON stock_balances (location, sku);

-- allocations are the parts of order lines reserved at a location; quantity
-- is what is still reserved, 0 once shipped or released. The sum of the open
-- allocations at a key equals the balance's reserved. sku is not a foreign
-- key (order lines may carry SKUs Orderly does not know); order_id is, but
-- checked at commit, so a capture may reserve before it inserts the order.
CREATE TABLE allocations (
    id         text PRIMARY KEY,
    order_id   text NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    line_id    text NOT NULL,
    sku        text COLLATE "C" NOT NULL,
    location   text COLLATE "C" NOT NULL REFERENCES locations (code),
    quantity   bigint NOT NULL CHECK (quantity >= 0),
    created_at timestamptz NOT NULL
);

-- An order's allocations. Not partial, unlike the next: it also serves the
-- foreign key, whose checks look up allocations by order_id (on SQLite an
-- order inserted after its allocations, while their deferred check is
-- pending, searches allocations for them; a partial index cannot serve
-- that, and the search would scan the table).
CREATE INDEX allocations_order_id ON allocations (order_id);
-- The open allocations at a balance.
CREATE INDEX allocations_location_sku ON allocations (location, sku) WHERE quantity > 0;

-- reconciliation_reports compare a stock snapshot with the balances. ids are
-- UUIDv7, so id order is creation order: lists page by id.
CREATE TABLE reconciliation_reports (
    id          text COLLATE "C" PRIMARY KEY,
    location    text COLLATE "C" NOT NULL REFERENCES locations (code),
    mode        text NOT NULL,
    applied     boolean NOT NULL,
    counted_at  timestamptz, -- NULL when the snapshot did not say
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL,
    skus        bigint NOT NULL,
    drifted     bigint NOT NULL,
    drift_units bigint NOT NULL
);

CREATE INDEX reconciliation_reports_location_id ON reconciliation_reports (location, id);

-- reconciliation_lines: one per SKU compared. sku is not a foreign key: a
-- snapshot may list stock Orderly has no record of.
CREATE TABLE reconciliation_lines (
    report_id         text COLLATE "C" NOT NULL REFERENCES reconciliation_reports (id),
    sku               text COLLATE "C" NOT NULL,
    expected          bigint NOT NULL,
    counted           bigint NOT NULL,
    drift             bigint NOT NULL,
    reserved          bigint NOT NULL,
    moved_since_count bigint NOT NULL,
    cause             text NOT NULL,
    PRIMARY KEY (report_id, sku)
);
