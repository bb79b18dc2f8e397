-- Notifications: what a customer is told when their case changes (received, replied, status changed, more
-- information needed, solved, chat transcript). Each is written once by the `notify` job that the change itself
-- enqueued (the outbox), shown in the customer's inbox (站内信) and, by the customer's choice, mailed.
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    conversation_id TEXT REFERENCES conversations(id),
    kind            TEXT NOT NULL CHECK (kind = 'received' OR kind = 'replied' OR kind = 'status_changed'
                        OR kind = 'more_info' OR kind = 'solved' OR kind = 'transcript'),
    -- what caused it (`<conversation>:<seq>`): a job that runs twice writes one notification
    cause           TEXT NOT NULL UNIQUE,
    lang            TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    link            TEXT,
    -- the mail: 'sent', 'off' (the customer does not want this kind by mail), 'none' (no verified address),
    -- 'thread' (the case's own mail reply carries it), or NULL while not yet decided
    email           TEXT,
    read_at         BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notifications_customer ON notifications (customer_id, created_at);

-- The customer's choices: whether a kind of notification also goes by mail (no row: yes).
CREATE TABLE notification_prefs (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    kind        TEXT NOT NULL,
    email       BOOLEAN NOT NULL,
    PRIMARY KEY (customer_id, kind)
);

-- Templates as admins edited them (no row: the built-in text of that kind and language).
CREATE TABLE notification_templates (
    kind       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_by TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, lang)
);

-- Satisfaction with a solved case (tickets get CSAT like chats), from the link in the "solved" notification.
CREATE TABLE case_ratings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    score           BIGINT NOT NULL CHECK (score >= 1 AND score <= 5),
    comment         TEXT,
    rated_at        BIGINT NOT NULL
);

-- The phrase the customer chose on the exchange (identity claim `anti_phishing_code`), printed in every genuine
-- mail so that a customer can tell it from a phishing copy.
ALTER TABLE customers ADD COLUMN anti_phishing_code TEXT;
