-- 0008_labels: carriers per location, bought labels and the sequence
-- table-rate tracking numbers are made from. Keep in step with
-- postgres/migration/0008_labels.sql; see
-- docs/decisions/0006-fulfilment-and-carriers.md.

-- The carrier kind that rates and labels a location's parcels.
ALTER TABLE locations ADD COLUMN carrier TEXT NOT NULL DEFAULT 'table-rate';

-- tracking_counter holds the last number handed to a table-rate tracking
-- number. It moves in its own statement, outside any order's transaction
-- (the carrier is called before the label is stored): a label that is
-- never stored leaves a gap, which tracking numbers may have.
CREATE TABLE tracking_counter (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    last_number INTEGER NOT NULL
) STRICT;
INSERT INTO tracking_counter (id, last_number) VALUES (1, 0);

-- labels: one per label bought for a fulfilment order. pdf is the document
-- when the carrier returns it (table-rate), NULL when it is at url (the
-- carrier's, EasyPost). amount is in minor units of currency; 0 and ''
-- when the carrier did not say.
CREATE TABLE labels (
    id                  TEXT PRIMARY KEY,
    fulfilment_order_id TEXT NOT NULL REFERENCES fulfilment_orders (id),
    carrier             TEXT NOT NULL,
    service             TEXT NOT NULL,
    tracking_number     TEXT NOT NULL,
    url                 TEXT NOT NULL,
    amount              INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    carrier_ref         TEXT NOT NULL,
    pdf                 BLOB,
    created_at          TEXT NOT NULL
) STRICT;

CREATE INDEX labels_fulfilment_order_id ON labels (fulfilment_order_id);
