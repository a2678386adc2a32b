-- 0010_integrations: what Orderly needs to talk back to its channels and
-- to report on it (docs/decisions/0010-channel-jobs.md). Keep in step with
-- sqlite/migration/0010_integrations.sql.

-- channel_integrations: one row per channel whose connector is configured.
-- base_url and settings (credentials included: write-only in the API) are
-- the connector.Config; the rest is the state of the channel's jobs.
--   - poll_job_id / stock_job_id: the channel's one pending poll job and
--     one pending stock-push job, swapped compare-and-set, so several nodes
--     never schedule two of either.
--   - watermark / poll_cursor / poll_high: how far polling has got; saved
--     after every page, so a crash resumes at the page it was on.
--   - poll_owner / poll_locked_until: the lease of the poll running now.
CREATE TABLE channel_integrations (
    channel           text COLLATE "C" PRIMARY KEY REFERENCES channels (code),
    base_url          text NOT NULL DEFAULT '',
    settings          jsonb NOT NULL DEFAULT '{}', -- object of strings
    enabled           boolean NOT NULL DEFAULT true,
    poll_interval_s   integer NOT NULL CHECK (poll_interval_s >= 10),
    poll_job_id       text NOT NULL DEFAULT '',
    stock_job_id      text NOT NULL DEFAULT '',
    watermark         timestamptz,
    poll_cursor       text NOT NULL DEFAULT '',
    poll_high         timestamptz,
    poll_owner        text NOT NULL DEFAULT '',
    poll_locked_until timestamptz,
    last_success_at   timestamptz,
    last_error        text NOT NULL DEFAULT '',
    last_error_at     timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

-- integration_runs: the outcome of every attempt of a channel job, for the
-- error rate of /api/v1/integrations; purged after a week.
CREATE TABLE integration_runs (
    id      text COLLATE "C" PRIMARY KEY,
    channel text COLLATE "C" NOT NULL,
    kind    text NOT NULL,
    ok      boolean NOT NULL,
    error   text NOT NULL DEFAULT '',
    at      timestamptz NOT NULL
);

CREATE INDEX integration_runs_at ON integration_runs (at);

-- stock_push_pending: the SKUs whose availability changed and that a
-- channel has not been told yet; marked in the transaction of the change.
CREATE TABLE stock_push_pending (
    channel   text COLLATE "C" NOT NULL REFERENCES channels (code),
    sku       text COLLATE "C" NOT NULL,
    marked_at timestamptz NOT NULL,
    PRIMARY KEY (channel, sku)
);

-- channel_order_lines: the channel's own ids of an order's lines (Shopify
-- line item ids, Amazon OrderItemIds), in the channel's line order, kept at
-- intake to push shipments back.
CREATE TABLE channel_order_lines (
    channel     text COLLATE "C" NOT NULL REFERENCES channels (code),
    external_id text NOT NULL,
    lines       jsonb NOT NULL, -- array of {sku, quantity, external_id}
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (channel, external_id)
);
