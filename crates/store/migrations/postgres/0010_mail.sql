-- The email channel: every mail that entered or left a conversation, by its Message-ID (without the angle
-- brackets), so that a reply naming any mail of the thread in In-Reply-To or References lands on its case, the
-- same mail delivered twice is stored once, and outgoing replies carry the thread's references.
CREATE TABLE mail_messages (
    message_id      TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    -- 'in' (from the customer) or 'out' (a reply sent by mail)
    direction       TEXT NOT NULL CHECK (direction = 'in' OR direction = 'out'),
    -- the timeline message it became, or was sent from
    message_row_id  TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX mail_messages_conversation ON mail_messages (conversation_id, created_at);

-- Mail refused at the door (auto-replies, bounces, blocked senders, unreadable mail), with the reason: nothing is
-- dropped silently.
CREATE TABLE mail_rejections (
    id          TEXT PRIMARY KEY,
    message_id  TEXT,
    sender      TEXT,
    subject     TEXT,
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX mail_rejections_time ON mail_rejections (created_at);
