-- Guards against guessing. Times are Unix milliseconds.

-- Guest sign-in per email address, across codes: wrong codes count until a success (asking for a new code does
-- not reset them); five lock the address, each lock in a row twice as long as the one before; codes per hour
-- are capped and spaced out.
CREATE TABLE guest_guards (
    email         TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    lockouts      BIGINT NOT NULL DEFAULT 0,
    last_lock_end BIGINT NOT NULL DEFAULT 0,
    codes_window  BIGINT NOT NULL DEFAULT 0,
    codes         BIGINT NOT NULL DEFAULT 0,
    last_code_at  BIGINT NOT NULL DEFAULT 0
);

-- Fixed-window counters shared by every node: guest codes per client address, failed logins per client
-- address. `bucket` names what is counted and for whom (e.g. `login:203.0.113.7`).
CREATE TABLE throttle (
    bucket       TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
CREATE INDEX throttle_window ON throttle (window_start);
