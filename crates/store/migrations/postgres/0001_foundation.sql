-- Foundation: accounts, sessions, tokens and the one conversation core that every channel feeds.
-- Times are Unix milliseconds (BIGINT) so both backends share one representation.

CREATE TABLE departments (
    id           TEXT PRIMARY KEY,
    name_en      TEXT NOT NULL,
    name_zh_hans TEXT NOT NULL,
    name_zh_hant TEXT NOT NULL,
    position     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO departments (id, name_en, name_zh_hans, name_zh_hant, position) VALUES
    ('support', 'Customer support', '客户服务', '客戶服務', 1),
    ('tech', 'Technical support', '技术支持', '技術支援', 2),
    ('finance', 'Finance', '财务', '財務', 3),
    ('risk', 'Risk & compliance', '风控合规', '風控合規', 4);

CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    agent_no      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    languages     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE agent_departments (
    agent_id      TEXT NOT NULL REFERENCES agents(id),
    department_id TEXT NOT NULL REFERENCES departments(id),
    PRIMARY KEY (agent_id, department_id)
);

CREATE TABLE customers (
    id                TEXT PRIMARY KEY,
    external_id       TEXT UNIQUE,
    kind              TEXT NOT NULL,
    email             TEXT,
    name              TEXT,
    lang              TEXT,
    email_verified_at BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX customers_guest_email ON customers (email) WHERE kind = 'guest';

CREATE TABLE guest_codes (
    email      TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash     TEXT PRIMARY KEY,
    principal_kind TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    csrf           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    case_number   TEXT UNIQUE,
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    subject       TEXT NOT NULL,
    status        TEXT NOT NULL,
    priority      TEXT NOT NULL,
    priority_rank BIGINT NOT NULL,
    category      TEXT NOT NULL,
    department_id TEXT NOT NULL REFERENCES departments(id),
    assignee_id   TEXT REFERENCES agents(id),
    tier          TEXT NOT NULL,
    lang          TEXT NOT NULL,
    order_id      TEXT,
    tx_hash       TEXT,
    asset         TEXT,
    amount        TEXT,
    merged_into   TEXT REFERENCES conversations(id),
    follow_up_of  TEXT REFERENCES conversations(id),
    last_seq      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    solved_at     BIGINT,
    closed_at     BIGINT
);
CREATE INDEX conversations_customer ON conversations (customer_id, updated_at, id);
CREATE INDEX conversations_department ON conversations (department_id, status, updated_at, id);
CREATE INDEX conversations_assignee ON conversations (assignee_id, status, updated_at, id);
CREATE INDEX conversations_status ON conversations (status, updated_at, id);
CREATE INDEX conversations_updated ON conversations (updated_at, id);

CREATE TABLE conversation_tags (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    tag             TEXT NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX conversation_tags_tag ON conversation_tags (tag);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             BIGINT NOT NULL,
    author_kind     TEXT NOT NULL,
    author_id       TEXT,
    body            TEXT NOT NULL,
    internal        BOOLEAN NOT NULL,
    client_id       TEXT,
    created_at      BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    sha256          TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    filename        TEXT NOT NULL,
    owner_kind      TEXT NOT NULL,
    owner_id        TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations(id),
    message_id      TEXT REFERENCES messages(id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             BIGINT NOT NULL,
    actor_kind      TEXT NOT NULL,
    actor_id        TEXT,
    kind            TEXT NOT NULL,
    data            TEXT NOT NULL,
    internal        BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);

CREATE TABLE idempotency_keys (
    principal     TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
