-- 0010_integrations: what Orderly needs to talk back to its channels and
-- to report on it (docs/decisions/0010-channel-jobs.md). Keep in step with
-- postgres/migration/0010_integrations.sql, which explains the columns.

CREATE TABLE channel_integrations (
    channel           TEXT PRIMARY KEY REFERENCES channels (code),
    base_url          TEXT NOT NULL DEFAULT '',
    settings          TEXT NOT NULL DEFAULT '{}', -- JSON object of strings
    enabled           INTEGER NOT NULL DEFAULT 1,
    poll_interval_s   INTEGER NOT NULL CHECK (poll_interval_s >= 10),
    poll_job_id       TEXT NOT NULL DEFAULT '',
    stock_job_id      TEXT NOT NULL DEFAULT '',
    watermark         TEXT,
    poll_cursor       TEXT NOT NULL DEFAULT '',
    poll_high         TEXT,
    poll_owner        TEXT NOT NULL DEFAULT '',
    poll_locked_until TEXT,
    last_success_at   TEXT,
    last_error        TEXT NOT NULL DEFAULT '',
    last_error_at     TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;

CREATE TABLE integration_runs (
    id      TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    kind    TEXT NOT NULL,
    ok      INTEGER NOT NULL,
    error   TEXT NOT NULL DEFAULT '',
    at      TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX integration_runs_at ON integration_runs (at);

CREATE TABLE stock_push_pending (
    channel   TEXT NOT NULL REFERENCES channels (code),
    sku       TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    PRIMARY KEY (channel, sku)
) STRICT, WITHOUT ROWID;

CREATE TABLE channel_order_lines (
    channel     TEXT NOT NULL REFERENCES channels (code),
    external_id TEXT NOT NULL,
    lines       TEXT NOT NULL, -- JSON array of {sku, quantity, external_id}
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
) STRICT, WITHOUT ROWID;
