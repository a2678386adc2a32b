-- 0006_outbound: the job queue, outbound webhook subscriptions, their
-- delivery log, and the dispatcher's cursor over the event log. Keep in
-- step with postgres/migration/0006_outbound.sql; see
-- docs/decisions/0008-jobs.md.

-- jobs is the one background-work queue. A job is enqueued in the
-- transaction that causes it, claimed by one worker at a time (state
-- running until locked_until), retried with backoff while attempt <
-- max_attempts, and otherwise ends dead: the dead-letter list.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    args         TEXT NOT NULL, -- JSON
    state        TEXT NOT NULL CHECK (state IN ('available', 'running', 'succeeded', 'dead')),
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       TEXT NOT NULL,
    locked_until TEXT,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    finished_at  TEXT
) STRICT, WITHOUT ROWID;

CREATE INDEX jobs_due ON jobs (state, run_at);

-- webhook_subscriptions: where Orderly posts its events. The secret is
-- kept as given (whsec_…): it signs every delivery, so it cannot be hashed.
CREATE TABLE webhook_subscriptions (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL, -- JSON array of event types or patterns
    secret          TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- outbound_deliveries: one row per (subscription, event), the delivery log.
-- payload is the exact body sent, so a replay sends the same bytes.
CREATE TABLE outbound_deliveries (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          BLOB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'dead', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT,
    UNIQUE (subscription_id, event_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX outbound_deliveries_subscription ON outbound_deliveries (subscription_id, id);

-- events.txid orders the log for the dispatcher. SQLite has one writer, so
-- seq order is commit order already and txid stays 0.
ALTER TABLE events ADD COLUMN txid INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_txid ON events (txid, seq);

-- outbox_cursors: how far each consumer of the event log has got, as
-- (txid, seq). A consumer starts at the end of the log: history is not
-- replayed to subscribers that did not exist.
CREATE TABLE outbox_cursors (
    name TEXT PRIMARY KEY,
    txid INTEGER NOT NULL,
    seq  INTEGER NOT NULL
) STRICT;

INSERT INTO outbox_cursors (name, txid, seq)
SELECT 'dispatcher', 0, COALESCE(max(seq), 0) FROM events;
