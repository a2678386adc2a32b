-- 0009_users: console users, their sessions, the failed sign-ins that
-- throttle password guessing, each location's fulfilment SLA, and an index
-- for the console's backordered filter. Keep in step with
-- postgres/migration/0009_users.sql; see docs/console.md.

-- users: email is stored normalised (trimmed, lower case). password_hash
-- is a PHC-format argon2id hash; the password itself is never stored.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    location      TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
) STRICT;

-- sessions: hash is the SHA-256 of the cookie's token, never the token.
CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- login_failures: one row per failed sign-in, keyed by e-mail address and
-- by client address, counted over a sliding window.
CREATE TABLE login_failures (
    id  INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at  TEXT NOT NULL
) STRICT;

CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- location_slas: how long a fulfilment order may wait at a location
-- before the dashboard calls it late. A location without a row has the
-- default (docs/console.md).
CREATE TABLE location_slas (
    location TEXT PRIMARY KEY REFERENCES locations (code),
    minutes  INTEGER NOT NULL
) STRICT;

-- The console's "backordered" filter and dashboard count look up the
-- few lines that are short.
CREATE INDEX order_lines_backordered ON order_lines (order_id) WHERE backordered > 0;
