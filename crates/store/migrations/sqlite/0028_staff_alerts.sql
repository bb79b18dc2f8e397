-- Alerts for staff (issue 13): an SLA clock about to run out (to the case's agent and its department's
-- supervisors), a clock run out, and later trend alerts. Shown in the console and mailed to the agent. One per
-- agent and cause (`sla_warning:{case}:{deadline}`), so a check that runs twice alerts once; `mailed_at` is set
-- when the mail went out (a mail job that runs again sends only what is not marked).
CREATE TABLE staff_alerts (
    id              TEXT PRIMARY KEY,
    agent_id        TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('sla_warning', 'sla_breached', 'trend')),
    cause           TEXT NOT NULL,
    conversation_id TEXT,
    -- JSON: what the alert shows (case number, subject, the deadline).
    data            TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL,
    read_at         BIGINT,
    mailed_at       BIGINT,
    UNIQUE (agent_id, cause)
);
CREATE INDEX staff_alerts_agent ON staff_alerts (agent_id, created_at);
CREATE INDEX staff_alerts_unmailed ON staff_alerts (created_at) WHERE mailed_at IS NULL;
