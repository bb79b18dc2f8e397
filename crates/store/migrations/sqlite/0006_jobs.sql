-- Durable jobs and their transactional outbox (store/src/jobs.rs). A job is inserted in the same transaction
-- as the change that causes it; runners claim due jobs with a lease (locked_by, locked_until).
--   queued  waiting for its first run (run_at may be in the future: a scheduled job)
--   running leased by a node until locked_until; a lease that ends unrenewed makes the job claimable again
--   failed  its last run failed; waits for its retry at run_at (exponential backoff with jitter)
--   done    finished (kept for a while, then purged)
--   dead    failed max_attempts times, or failed for good: waits for a supervisor's retry
-- due_at is when a claimer should next look at the job: run_at while queued or failed, locked_until while
-- running, NULL when done or dead. One index on it serves both new work and expired leases.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
    run_at       BIGINT NOT NULL,
    due_at       BIGINT,
    locked_by    TEXT,
    locked_until BIGINT,
    last_error   TEXT,
    idem_key     TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    -- Enqueueing a job again with the same key is a no-op (NULL keys never clash).
    UNIQUE (kind, idem_key)
);
CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at IS NOT NULL;
-- The console's lists by state (keyset on run_at, id), the counts for /metrics and the purge of old done jobs.
CREATE INDEX jobs_state ON jobs (state, run_at, id);

-- An audit of job runs whose kind asks for one (the built-in heartbeat does), written in the same transaction
-- that marks the job done: a row exists exactly when the job completed, and at most once per job.
CREATE TABLE job_runs (
    job_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    node        TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    note        TEXT NOT NULL,
    finished_at BIGINT NOT NULL
);
CREATE INDEX job_runs_kind ON job_runs (kind, finished_at);
