-- Announcements (官方公告, issue 13): notices supervisors or the exchange publish for a time (maintenance, an
-- incident such as "BTC withdrawals delayed"), in the customers' languages, shown in the widget, the help center
-- and the portal, and mentioned by the bot to customers who ask about an affected topic.
CREATE TABLE announcements (
    id           TEXT PRIMARY KEY,
    -- JSON objects {"zh-Hans": …, "zh-Hant": …, "en": …}: at least one language.
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- JSON array of case categories the notice is about (withdrawal, deposit, …); empty: about everything.
    topics       TEXT NOT NULL,
    severity     TEXT NOT NULL CHECK (severity = 'info' OR severity = 'maintenance' OR severity = 'incident'),
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    withdrawn_at BIGINT,
    withdrawn_by TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX announcements_live ON announcements (ends_at) WHERE withdrawn_at IS NULL;

-- Cases linked to an incident, so that agents answer them all at once.
CREATE TABLE announcement_cases (
    announcement_id TEXT NOT NULL REFERENCES announcements(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    linked_by       TEXT NOT NULL,
    linked_at       BIGINT NOT NULL,
    PRIMARY KEY (announcement_id, conversation_id)
);
CREATE INDEX announcement_cases_conversation ON announcement_cases (conversation_id);
