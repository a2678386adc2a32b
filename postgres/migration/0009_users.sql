-- 0009_users: console users, their sessions, the failed sign-ins that
-- throttle password guessing, each location's fulfilment SLA, and an index
-- for the console's backordered filter. Keep in step with
-- sqlite/migration/0009_users.sql; see docs/console.md.

-- users: email is stored normalised (trimmed, lower case). password_hash
-- is a PHC-format argon2id hash; the password itself is never stored.
CREATE TABLE users (
    id            text COLLATE "C" PRIMARY KEY,
    email         text COLLATE "C" NOT NULL UNIQUE,
    role          text NOT NULL,
    location      text NOT NULL,
    time_zone     text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    disabled_at   timestamptz
);

-- sessions: hash is the SHA-256 of the cookie's token, never the token.
CREATE TABLE sessions (
    hash         text COLLATE "C" PRIMARY KEY,
    user_id      text COLLATE "C" NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- login_failures: one row per failed sign-in, keyed by e-mail address and
-- by client address, counted over a sliding window.
CREATE TABLE login_failures (
    id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text COLLATE "C" NOT NULL,
    at  timestamptz NOT NULL
);

CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- location_slas: how long a fulfilment order may wait at a location
-- before the dashboard calls it late. A location without a row has the
-- default (docs/console.md).
CREATE TABLE location_slas (
    location text COLLATE "C" PRIMARY KEY REFERENCES locations (code),
    minutes  integer NOT NULL
);

-- The console's "backordered" filter and dashboard count look up the
-- few lines that are short.
CREATE INDEX order_lines_backordered ON order_lines (order_id) WHERE backordered > 0;
