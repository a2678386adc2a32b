-- 0008_labels: carriers per location, bought labels and the sequence
-- table-rate tracking numbers are made from. Keep in step with
-- sqlite/migration/0008_labels.sql; see
-- docs/decisions/0006-fulfilment-and-carriers.md.

-- The carrier kind that rates and labels a location's parcels.
ALTER TABLE locations ADD COLUMN carrier text NOT NULL DEFAULT 'table-rate';

-- Table-rate tracking numbers come from a sequence, taken outside any
-- order's transaction (the carrier is called before the label is
-- stored): a label that is never stored leaves a gap, which tracking
-- numbers may have.
CREATE SEQUENCE tracking_number START WITH 1;

-- labels: one per label bought for a fulfilment order. pdf is the document
-- when the carrier returns it (table-rate), NULL when it is at url (the
-- carrier's, EasyPost). amount is in minor units of currency; 0 and ''
-- when the carrier did not say.
CREATE TABLE labels (
    id                  text COLLATE "C" PRIMARY KEY,
    fulfilment_order_id text COLLATE "C" NOT NULL REFERENCES fulfilment_orders (id),
    carrier             text NOT NULL,
    service             text NOT NULL,
    tracking_number     text NOT NULL,
    url                 text NOT NULL,
    amount              bigint NOT NULL,
    currency            text NOT NULL,
    carrier_ref         text NOT NULL,
    pdf                 bytea,
    created_at          timestamptz NOT NULL
);

CREATE INDEX labels_fulfilment_order_id ON labels (fulfilment_order_id);
