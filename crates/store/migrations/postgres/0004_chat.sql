-- Live chat: a chat is a conversation (kind = 'chat') plus its routing state, receipts and rating.
CREATE TABLE chats (
    conversation_id        TEXT PRIMARY KEY REFERENCES conversations(id),
    customer_id            TEXT NOT NULL REFERENCES customers(id),
    state                  TEXT NOT NULL,
    topic                  TEXT,
    bot_misses             BIGINT NOT NULL DEFAULT 0,
    queued_at              BIGINT,
    assigned_at            BIGINT,
    ended_at               BIGINT,
    customer_delivered_seq BIGINT NOT NULL DEFAULT 0,
    customer_read_seq      BIGINT NOT NULL DEFAULT 0,
    agent_delivered_seq    BIGINT NOT NULL DEFAULT 0,
    agent_read_seq         BIGINT NOT NULL DEFAULT 0,
    csat_score             BIGINT,
    csat_comment           TEXT,
    csat_at                BIGINT,
    ticket_id              TEXT REFERENCES conversations(id)
);
-- One open chat per customer: a second tab or device joins it instead of starting another.
CREATE UNIQUE INDEX chats_one_open ON chats (customer_id) WHERE state <> 'ended';
CREATE INDEX chats_queue ON chats (state, queued_at);

CREATE TABLE agent_presence (
    agent_id   TEXT PRIMARY KEY REFERENCES agents(id),
    status     TEXT NOT NULL,
    capacity   BIGINT NOT NULL,
    -- Active chats assigned to the agent: kept in step by every chat transition (routing reads it).
    active_chats BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE canned_replies (
    id         TEXT PRIMARY KEY,
    shortcut   TEXT NOT NULL,
    lang       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (shortcut, lang)
);
INSERT INTO canned_replies (id, shortcut, lang, title, body, created_at) VALUES
    ('cr-hello-hans', 'hello', 'zh-Hans', '问候', '您好，我是客服专员，很高兴为您服务。请问有什么可以帮您？', 0),
    ('cr-hello-hant', 'hello', 'zh-Hant', '問候', '您好，我是客服專員，很高興為您服務。請問有什麼可以幫您？', 0),
    ('cr-hello-en', 'hello', 'en', 'Greeting', 'Hello, thank you for contacting us. How can I help you today?', 0),
    ('cr-txid-hans', 'txid', 'zh-Hans', '索取交易哈希', '为了帮您查询，请提供这笔交易的 TxID（交易哈希）和币种、网络。我们绝不会向您索要密码、验证码或助记词。', 0),
    ('cr-txid-hant', 'txid', 'zh-Hant', '索取交易雜湊', '為了幫您查詢，請提供這筆交易的 TxID（交易雜湊）以及幣種、網路。我們絕不會向您索取密碼、驗證碼或助記詞。', 0),
    ('cr-txid-en', 'txid', 'en', 'Ask for the TxID', 'To look into this, please send the transaction''s TxID (hash), the coin and the network. We will never ask for your password, verification codes or recovery phrase.', 0),
    ('cr-wait-hans', 'wait', 'zh-Hans', '请稍候', '我正在为您核实，请稍候一两分钟，不要离开对话。', 0),
    ('cr-wait-hant', 'wait', 'zh-Hant', '請稍候', '我正在為您核實，請稍候一兩分鐘，不要離開對話。', 0),
    ('cr-wait-en', 'wait', 'en', 'Please hold', 'I am checking this for you; please give me a minute or two and stay in the chat.', 0),
    ('cr-bye-hans', 'bye', 'zh-Hans', '结束语', '感谢您的耐心。如还有其他问题，随时可以再联系我们。祝您交易顺利！', 0),
    ('cr-bye-hant', 'bye', 'zh-Hant', '結束語', '感謝您的耐心。如還有其他問題，隨時可以再聯繫我們。祝您交易順利！', 0),
    ('cr-bye-en', 'bye', 'en', 'Closing', 'Thank you for your patience. If anything else comes up, we are here. Happy trading!', 0);
