-- 0001_init: reference data, orders and their lines, the event log, API keys
-- and idempotency records. Keep in step with sqlite/migration/0001_init.sql.
--
-- Conventions: times are timestamptz (microseconds); JSON is jsonb; money
-- and quantities are bigint minor units. Codes that lists are ordered and
-- paged by use COLLATE "C", so they sort byte by byte, as on SQLite,
-- whatever the database's collation.

CREATE TABLE channels (
    code       text COLLATE "C" PRIMARY KEY,
    kind       text NOT NULL,
    name       text NOT NULL,
    secret     text NOT NULL,
    policy     jsonb NOT NULL, -- channel.Policy
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE locations (
    code       text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL,
    address    jsonb NOT NULL, -- orderly.Address
    lat        double precision,
    lon        double precision,
    active     boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE skus (
    sku          text COLLATE "C" PRIMARY KEY,
    name         text NOT NULL,
    barcode      text NOT NULL,
    weight_grams bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE orders (
    id                  text PRIMARY KEY,
    number              bigint NOT NULL UNIQUE,
    channel             text COLLATE "C" NOT NULL REFERENCES channels (code),
    external_id         text NOT NULL,
    placed_at           timestamptz NOT NULL,
    currency            text NOT NULL,
    customer_name       text NOT NULL,
    customer_email      text NOT NULL, -- as given
    customer_phone      text NOT NULL,
    -- Case-folded copies (Go's strings.ToLower) that searches match
    -- against, computed by the application so both backends fold alike.
    customer_name_fold  text NOT NULL,
    customer_email_fold text NOT NULL,
    shipping_address    jsonb NOT NULL, -- orderly.Address
    billing_address     jsonb NOT NULL, -- orderly.Address
    shipping_lines      jsonb NOT NULL, -- []order.ShippingLine
    note                text NOT NULL,
    tags                jsonb NOT NULL, -- []string
    subtotal            bigint NOT NULL,
    discount_total      bigint NOT NULL,
    shipping_total      bigint NOT NULL,
    tax_total           bigint NOT NULL,
    total               bigint NOT NULL,
    status              text NOT NULL,
    hold                jsonb, -- order.Hold, NULL when not on hold
    cancel_reason       text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             bigint NOT NULL,
    UNIQUE (channel, external_id)
);

-- Order numbers come from a sequence: inserts do not queue on a counter
-- row, and a number is lost when its inserting transaction rolls back.
CREATE SEQUENCE order_number START WITH 1001 OWNED BY orders.number;

-- Indexes for the order list's filters; every list is newest number first.
CREATE INDEX orders_channel_number ON orders (channel, number);
CREATE INDEX orders_status_number ON orders (status, number);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE INDEX orders_external_id ON orders (external_id);
CREATE INDEX orders_customer_email_fold ON orders (customer_email_fold);

-- order_lines keep the order they were given in (position). sku is not a
-- foreign key: channel orders may carry SKUs Orderly does not know yet.
CREATE TABLE order_lines (
    id          text PRIMARY KEY,
    order_id    text NOT NULL REFERENCES orders (id),
    position    integer NOT NULL,
    sku         text NOT NULL,
    name        text NOT NULL,
    quantity    bigint NOT NULL,
    unit_price  bigint NOT NULL,
    discount    bigint NOT NULL,
    tax         bigint NOT NULL,
    cancelled   bigint NOT NULL,
    allocated   bigint NOT NULL,
    backordered bigint NOT NULL,
    shipped     bigint NOT NULL,
    delivered   bigint NOT NULL,
    returned    bigint NOT NULL,
    UNIQUE (order_id, position)
);

-- events is the append-only log. seq comes from an identity and is never
-- reused; concurrent transactions may commit out of seq order.
CREATE TABLE events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    type       text NOT NULL,
    subject    text NOT NULL,
    subject_id text NOT NULL,
    order_id   text, -- NULL outside an order's timeline
    actor      text NOT NULL,
    at         timestamptz NOT NULL,
    data       jsonb NOT NULL -- an object
);

CREATE INDEX events_order_id ON events (order_id, seq) WHERE order_id IS NOT NULL;

CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    name       text COLLATE "C" NOT NULL UNIQUE,
    role       text NOT NULL,
    channel    text NOT NULL,
    location   text NOT NULL,
    hash       text NOT NULL UNIQUE,
    prefix     text NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- idempotency_keys remembers each Idempotency-Key: status 0 while its
-- request is in progress, then the response's status and body.
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL,
    body         bytea,
    created_at   timestamptz NOT NULL,
    locked_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
