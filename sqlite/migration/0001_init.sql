-- 0001_init: reference data, orders and their lines, the event log, API keys
-- and idempotency records. Keep in step with postgres/migration/0001_init.sql.
--
-- Conventions: STRICT tables; times are TEXT in the fixed-width UTC form
-- 2006-01-02T15:04:05.000000Z (so they sort as text); JSON is TEXT; money and
-- quantities are INTEGER minor units; booleans are INTEGER 0/1.

CREATE TABLE channels (
    code       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    secret     TEXT NOT NULL,
    policy     TEXT NOT NULL, -- JSON channel.Policy
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE locations (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    address    TEXT NOT NULL, -- JSON orderly.Address
    lat        REAL,
    lon        REAL,
    active     INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE skus (
    sku          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    barcode      TEXT NOT NULL,
    weight_grams INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

-- order_counter holds the last order number given out. It moves in the
-- transaction that inserts the order, so numbers have no gaps.
CREATE TABLE order_counter (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    last_number INTEGER NOT NULL
) STRICT;
INSERT INTO order_counter (id, last_number) VALUES (1, 1000);

CREATE TABLE orders (
    id                  TEXT PRIMARY KEY,
    number              INTEGER NOT NULL UNIQUE,
    channel             TEXT NOT NULL REFERENCES channels (code),
    external_id         TEXT NOT NULL,
    placed_at           TEXT NOT NULL,
    currency            TEXT NOT NULL,
    customer_name       TEXT NOT NULL,
    customer_email      TEXT NOT NULL, -- as given
    customer_phone      TEXT NOT NULL,
    -- Case-folded copies (Go's strings.ToLower) that searches match
    -- against: SQLite's lower() folds only ASCII.
    customer_name_fold  TEXT NOT NULL,
    customer_email_fold TEXT NOT NULL,
    shipping_address    TEXT NOT NULL, -- JSON orderly.Address
    billing_address     TEXT NOT NULL, -- JSON orderly.Address
    shipping_lines      TEXT NOT NULL, -- JSON []order.ShippingLine
    note                TEXT NOT NULL,
    tags                TEXT NOT NULL, -- JSON []string
    subtotal            INTEGER NOT NULL,
    discount_total      INTEGER NOT NULL,
    shipping_total      INTEGER NOT NULL,
    tax_total           INTEGER NOT NULL,
    total               INTEGER NOT NULL,
    status              TEXT NOT NULL,
    hold                TEXT, -- JSON order.Hold, NULL when not on hold
    cancel_reason       TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    version             INTEGER NOT NULL,
    UNIQUE (channel, external_id)
) STRICT;

-- Indexes for the order list's filters; every list is newest number first.
CREATE INDEX orders_channel_number ON orders (channel, number);
CREATE INDEX orders_status_number ON orders (status, number);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE INDEX orders_external_id ON orders (external_id);
CREATE INDEX orders_customer_email_fold ON orders (customer_email_fold);

-- order_lines keep the order they were given in (position). sku is not a
-- foreign key: channel orders may carry SKUs Orderly does not know yet.
CREATE TABLE order_lines (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    position    INTEGER NOT NULL,
    sku         TEXT NOT NULL,
    name        TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    unit_price  INTEGER NOT NULL,
    discount    INTEGER NOT NULL,
    tax         INTEGER NOT NULL,
    cancelled   INTEGER NOT NULL,
    allocated   INTEGER NOT NULL,
    backordered INTEGER NOT NULL,
    shipped     INTEGER NOT NULL,
    delivered   INTEGER NOT NULL,
    returned    INTEGER NOT NULL,
    UNIQUE (order_id, position)
) STRICT;

-- events is the append-only log. AUTOINCREMENT keeps seq from ever being
-- reused; with one writer, seq order is commit order.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    order_id   TEXT, -- NULL outside an order's timeline
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    data       TEXT NOT NULL -- JSON object
) STRICT;

CREATE INDEX events_order_id ON events (order_id, seq) WHERE order_id IS NOT NULL;

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    location   TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

-- idempotency_keys remembers each Idempotency-Key: status 0 while its
-- request is in progress, then the response's status and body.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB,
    created_at   TEXT NOT NULL,
    locked_at    TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
