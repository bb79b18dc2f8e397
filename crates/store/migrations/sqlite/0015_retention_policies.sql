-- Retention and privacy, continued (issue 12): how long each channel keeps its conversations, what the purge
-- erased, and the customers' data requests (a copy of their data, a correction, erasure).

-- Per channel: keep forever (keep_days NULL) or erase a solved or closed conversation keep_days after its last
-- activity (updated_at). An open case is never purged. Set by admins; no row: keep forever.
CREATE TABLE retention_policies (
    channel    TEXT PRIMARY KEY CHECK (channel = 'chat' OR channel = 'ticket' OR channel = 'email'),
    keep_days  BIGINT CHECK (keep_days IS NULL OR keep_days >= 1),
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The retention scan: finished conversations of a channel by last activity, not yet erased.
CREATE INDEX conversations_retention ON conversations (kind, updated_at)
    WHERE (status = 'solved' OR status = 'closed') AND erased_at IS NULL;

-- What each run of the purge erased, per rule (`recovery_window`, or `retention:<channel>:<days>d`), and what it
-- left because a legal hold covers it. Ids as JSON arrays. Supervisors read it at /console/retention.
CREATE TABLE purge_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    rule        TEXT NOT NULL,
    erased      BIGINT NOT NULL,
    erased_ids  TEXT NOT NULL,
    held        BIGINT NOT NULL,
    held_ids    TEXT NOT NULL
);
CREATE INDEX purge_log_at ON purge_log (at);

-- A customer's request about their data: `access` (a copy of all of it), `correction` (field and value), or
-- `erasure`. Due 30 days after filing; done or refused (with a reason) by a supervisor.
CREATE TABLE data_requests (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    kind        TEXT NOT NULL CHECK (kind = 'access' OR kind = 'correction' OR kind = 'erasure'),
    field       TEXT CHECK (field IS NULL OR field = 'name' OR field = 'email' OR field = 'lang'),
    value       TEXT,
    note        TEXT,
    status      TEXT NOT NULL CHECK (status = 'open' OR status = 'done' OR status = 'refused'),
    filed_at    BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    -- refused: why; done: what was done
    outcome     TEXT
);
CREATE INDEX data_requests_customer ON data_requests (customer_id, filed_at);
CREATE INDEX data_requests_open ON data_requests (due_at) WHERE status = 'open';
