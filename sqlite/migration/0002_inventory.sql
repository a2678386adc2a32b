-- 0002_inventory: the stock ledger and balances, allocations, reconciliation
-- reports, and the locations that feed each channel. Keep in step with
-- postgres/migration/0002_inventory.sql. Conventions as in 0001_init.sql.

-- channels.locations lists the codes of the locations whose stock a channel
-- sells, as a JSON array of strings; empty means every active location.
ALTER TABLE channels ADD COLUMN locations TEXT NOT NULL DEFAULT '[]';

-- stock_movements is the ledger: one immutable row per change of on-hand or
-- reserved stock. Every balance is the sum of its movements. AUTOINCREMENT
-- keeps seq from ever being reused; with one writer, seq order is commit
-- order.
CREATE TABLE stock_movements (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    sku            TEXT NOT NULL REFERENCES skus (sku),
    location       TEXT NOT NULL REFERENCES locations (code),
    delta_on_hand  INTEGER NOT NULL,
    delta_reserved INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    reference      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             TEXT NOT NULL
) STRICT;

-- One balance's ledger, newest first; and what moved at a location since a
-- count was taken.
CREATE INDEX stock_movements_location_sku_seq ON stock_movements (location, sku, seq);
CREATE INDEX stock_movements_location_at ON stock_movements (location, at);

-- stock_balances holds the current stock of each (sku, location) that has
-- ever moved or had a safety stock set. It changes only together with a
-- movement, by one guarded UPDATE (see store/sqlstore/stock.go); the CHECKs
-- are the last line of defence behind the guards. Keyed by sku first:
-- availability is read by SKU across locations. WITHOUT ROWID clusters the
-- rows in key order, so one SKU's balances sit together.
CREATE TABLE stock_balances (
    sku          TEXT NOT NULL REFERENCES skus (sku),
    location     TEXT NOT NULL REFERENCES locations (code),
    on_hand      INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved     INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (sku, location)
) STRICT, WITHOUT ROWID;

-- Listing a location's balances.
CREATE INDEX stock_balances_location_sku ON stock_balances (location, sku);

-- allocations are the parts of order lines reserved at a location; quantity
-- is what is still reserved, 0 once shipped or released. The sum of the open
-- allocations at a key equals the balance's reserved. sku is not a foreign
-- key (order lines may carry SKUs Orderly does not know); order_id is, but
-- checked at commit, so a capture may reserve before it inserts the order.
CREATE TABLE allocations (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    line_id    TEXT NOT NULL,
    sku        TEXT NOT NULL,
    location   TEXT NOT NULL REFERENCES locations (code),
    quantity   INTEGER NOT NULL CHECK (quantity >= 0),
    created_at TEXT NOT NULL
) STRICT;

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
    id          TEXT PRIMARY KEY,
    location    TEXT NOT NULL REFERENCES locations (code),
    mode        TEXT NOT NULL,
    applied     INTEGER NOT NULL,
    counted_at  TEXT, -- NULL when the snapshot did not say
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    skus        INTEGER NOT NULL,
    drifted     INTEGER NOT NULL,
    drift_units INTEGER NOT NULL
) STRICT;

CREATE INDEX reconciliation_reports_location_id ON reconciliation_reports (location, id);

-- reconciliation_lines: one per SKU compared. sku is not a foreign key: a
-- snapshot may list stock Orderly has no record of.
CREATE TABLE reconciliation_lines (
    report_id         TEXT NOT NULL REFERENCES reconciliation_reports (id),
    sku               TEXT NOT NULL,
    expected          INTEGER NOT NULL,
    counted           INTEGER NOT NULL,
    drift             INTEGER NOT NULL,
    reserved          INTEGER NOT NULL,
    moved_since_count INTEGER NOT NULL,
    cause             TEXT NOT NULL,
    PRIMARY KEY (report_id, sku)
) STRICT, WITHOUT ROWID;
