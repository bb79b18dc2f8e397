-- Supervisors' analytics (issue 13): rollup tables kept by the `analytics.fold` job from the change log, so a
-- dashboard sums a few thousand rollup rows instead of scanning every event.
--
-- Live chats join the change log: their transitions (created, queued, assigned, ended) and ratings leave a
-- `chat` row, so the fold reads them again (a chat's messages do not: the chat hot path stays as it was).
ALTER TABLE index_changes DROP CONSTRAINT index_changes_entity_check;
ALTER TABLE index_changes ADD CONSTRAINT index_changes_entity_check
    CHECK (entity IN ('ticket', 'article', 'synonyms', 'chat'));

-- Where the fold stands: the log position read up to (`xid`, `seq`, as an index keeps it), whether the first
-- full pass over every conversation is done (`rebuilt`) and, while it runs, the last conversation id it took.
-- `version` goes up with every fold step: a step commits only if no other node's step came first.
CREATE TABLE analytics_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    version       BIGINT NOT NULL DEFAULT 0,
    xid           BIGINT NOT NULL DEFAULT 0,
    seq           BIGINT NOT NULL DEFAULT 0,
    rebuilt       BOOLEAN NOT NULL DEFAULT FALSE,
    rebuild_after TEXT NOT NULL DEFAULT '',
    folded_at     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO analytics_state (id) VALUES (1);

-- What each conversation adds to the rollups now (JSON: a list of parts, each a key and its non-zero
-- metrics). Folding a conversation again takes its old parts out and puts its new ones in.
CREATE TABLE analytics_facts (
    conversation_id TEXT PRIMARY KEY,
    parts           TEXT NOT NULL
);

-- Per UTC day and dimensions: counts and sums. Response times also as histogram buckets (first response:
-- <1 min, <5, <15, <60, <4 h, <24 h, more; resolution: <1 h, <4 h, <24 h, <3 d, <7 d, more).
CREATE TABLE analytics_daily (
    day           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    category      TEXT NOT NULL,
    department_id TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    opened        BIGINT NOT NULL DEFAULT 0,
    responded     BIGINT NOT NULL DEFAULT 0,
    frt_ms        BIGINT NOT NULL DEFAULT 0,
    frt_b0 BIGINT NOT NULL DEFAULT 0, frt_b1 BIGINT NOT NULL DEFAULT 0, frt_b2 BIGINT NOT NULL DEFAULT 0,
    frt_b3 BIGINT NOT NULL DEFAULT 0, frt_b4 BIGINT NOT NULL DEFAULT 0, frt_b5 BIGINT NOT NULL DEFAULT 0,
    frt_b6 BIGINT NOT NULL DEFAULT 0,
    resolved      BIGINT NOT NULL DEFAULT 0,
    res_ms        BIGINT NOT NULL DEFAULT 0,
    res_b0 BIGINT NOT NULL DEFAULT 0, res_b1 BIGINT NOT NULL DEFAULT 0, res_b2 BIGINT NOT NULL DEFAULT 0,
    res_b3 BIGINT NOT NULL DEFAULT 0, res_b4 BIGINT NOT NULL DEFAULT 0, res_b5 BIGINT NOT NULL DEFAULT 0,
    sla_met       BIGINT NOT NULL DEFAULT 0,
    sla_breached  BIGINT NOT NULL DEFAULT 0,
    csat_n        BIGINT NOT NULL DEFAULT 0,
    csat_sum      BIGINT NOT NULL DEFAULT 0,
    csat_good     BIGINT NOT NULL DEFAULT 0,
    bot_chats     BIGINT NOT NULL DEFAULT 0,
    bot_solved    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind, category, department_id, agent_id)
);

-- The same per UTC calendar month (`month`: the day number of its first day), so that a range of many months
-- sums a few thousand rows: whole months from here, the days at either end from `analytics_daily`.
CREATE TABLE analytics_monthly (
    month         BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    category      TEXT NOT NULL,
    department_id TEXT NOT NULL,
    agent_id      TEXT NOT NULL,
    opened        BIGINT NOT NULL DEFAULT 0,
    responded     BIGINT NOT NULL DEFAULT 0,
    frt_ms        BIGINT NOT NULL DEFAULT 0,
    frt_b0 BIGINT NOT NULL DEFAULT 0, frt_b1 BIGINT NOT NULL DEFAULT 0, frt_b2 BIGINT NOT NULL DEFAULT 0,
    frt_b3 BIGINT NOT NULL DEFAULT 0, frt_b4 BIGINT NOT NULL DEFAULT 0, frt_b5 BIGINT NOT NULL DEFAULT 0,
    frt_b6 BIGINT NOT NULL DEFAULT 0,
    resolved      BIGINT NOT NULL DEFAULT 0,
    res_ms        BIGINT NOT NULL DEFAULT 0,
    res_b0 BIGINT NOT NULL DEFAULT 0, res_b1 BIGINT NOT NULL DEFAULT 0, res_b2 BIGINT NOT NULL DEFAULT 0,
    res_b3 BIGINT NOT NULL DEFAULT 0, res_b4 BIGINT NOT NULL DEFAULT 0, res_b5 BIGINT NOT NULL DEFAULT 0,
    sla_met       BIGINT NOT NULL DEFAULT 0,
    sla_breached  BIGINT NOT NULL DEFAULT 0,
    csat_n        BIGINT NOT NULL DEFAULT 0,
    csat_sum      BIGINT NOT NULL DEFAULT 0,
    csat_good     BIGINT NOT NULL DEFAULT 0,
    bot_chats     BIGINT NOT NULL DEFAULT 0,
    bot_solved    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, kind, category, department_id, agent_id)
);

-- New conversations per UTC hour, by channel and department (the hour-of-day chart).
CREATE TABLE analytics_hourly (
    hour          BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    department_id TEXT NOT NULL,
    opened        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, kind, department_id)
);

-- The same per UTC calendar month and UTC hour of the day (0–23), for ranges of whole months.
CREATE TABLE analytics_hour_month (
    month         BIGINT NOT NULL,
    hod           BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    department_id TEXT NOT NULL,
    opened        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, hod, kind, department_id)
);
