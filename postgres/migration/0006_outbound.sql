-- 0006_outbound: the job queue, outbound webhook subscriptions, their
-- delivery log, and the dispatcher's cursor over the event log. Keep in
-- step with sqlite/migration/0006_outbound.sql; see
-- docs/decisions/0008-jobs.md.

-- jobs is the one background-work queue. A job is enqueued in the
-- transaction that causes it, claimed by one worker at a time (state
-- running until locked_until; FOR UPDATE SKIP LOCKED lets several nodes
-- claim side by side), retried with backoff while attempt < max_attempts,
-- and otherwise ends dead: the dead-letter list.
CREATE TABLE jobs (
    id           text PRIMARY KEY,
    kind         text NOT NULL,
    args         jsonb NOT NULL,
    state        text NOT NULL CHECK (state IN ('available', 'running', 'succeeded', 'dead')),
    attempt      integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL CHECK (max_attempts >= 1),
    run_at       timestamptz NOT NULL,
    locked_until timestamptz,
    last_error   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);

CREATE INDEX jobs_due ON jobs (state, run_at);

-- webhook_subscriptions: where Orderly posts its events. The secret is
-- kept as given (whsec_…): it signs every delivery, so it cannot be hashed.
CREATE TABLE webhook_subscriptions (
    id              text COLLATE "C" PRIMARY KEY,
    url             text NOT NULL,
    events          jsonb NOT NULL, -- array of event types or patterns
    secret          text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    disabled_reason text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- outbound_deliveries: one row per (subscription, event), the delivery log.
-- payload is the exact body sent, so a replay sends the same bytes.
CREATE TABLE outbound_deliveries (
    id               text COLLATE "C" PRIMARY KEY,
    subscription_id  text COLLATE "C" NOT NULL REFERENCES webhook_subscriptions (id),
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    payload          bytea NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'retrying', 'succeeded', 'failed', 'dead', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    UNIQUE (subscription_id, event_id)
);

CREATE INDEX outbound_deliveries_subscription ON outbound_deliveries (subscription_id, id);

-- events.txid is the id of the transaction that wrote the event. seq comes
-- from an identity, so concurrent transactions commit out of seq order and
-- a cursor on seq alone could pass an event that commits later. The
-- dispatcher instead reads in (txid, seq) order and only events whose
-- transaction is older than the oldest one still running
-- (pg_snapshot_xmin): below that horizon nothing can appear any more.
-- Events stored before this migration all get this migration's id; the
-- cursor starts past them.
ALTER TABLE events ADD COLUMN txid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_txid ON events (txid, seq);

-- outbox_cursors: how far each consumer of the event log has got, as
-- (txid, seq). A consumer starts at the end of the log: history is not
-- replayed to subscribers that did not exist.
CREATE TABLE outbox_cursors (
    name text PRIMARY KEY,
    txid bigint NOT NULL,
    seq  bigint NOT NULL
);

INSERT INTO outbox_cursors (name, txid, seq)
SELECT 'dispatcher', COALESCE(max(txid), 0), COALESCE(max(seq), 0) FROM events;
