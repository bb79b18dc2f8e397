-- SLA policies (issue 13): which clocks a case gets. The first active policy (by position) whose lists all
-- match the case applies (an empty list matches anything). Targets are minutes of the calendar's working time.
-- `calendar` is JSON: {"offset_min": 480, "days": [[540, 1080], … seven entries, null for a day off],
-- "holidays": ["2026-10-01", …]}, or the text 'always' for 24/7.
CREATE TABLE sla_policies (
    id                 TEXT PRIMARY KEY,
    position           BIGINT NOT NULL,
    name               TEXT NOT NULL,
    kinds              TEXT NOT NULL,
    categories         TEXT NOT NULL,
    priorities         TEXT NOT NULL,
    first_response_min BIGINT NOT NULL CHECK (first_response_min > 0),
    resolution_min     BIGINT NOT NULL CHECK (resolution_min > 0),
    calendar           TEXT NOT NULL,
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    updated_by         TEXT,
    updated_at         BIGINT NOT NULL
);

-- What exchanges promise (the seeds): chats answered in minutes; security and funds problems within 30 minutes;
-- C2C within the hour; everything else within a day.
INSERT INTO sla_policies (id, position, name, kinds, categories, priorities, first_response_min, resolution_min, calendar, updated_at)
VALUES
    ('chat', 10, 'Live chat', '["chat"]', '[]', '[]', 2, 30, 'always', 0),
    ('funds', 20, 'Security and funds', '["ticket","email"]', '["security","deposit","withdrawal"]', '[]', 30, 1440, 'always', 0),
    ('c2c', 30, 'C2C trades', '["ticket","email"]', '["c2c"]', '[]', 60, 1440, 'always', 0),
    ('default', 100, 'Other requests', '["ticket","email"]', '[]', '[]', 1440, 4320, 'always', 0);
