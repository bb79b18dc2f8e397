-- Knowledge base: articles with one translation per language, every saved version, a category tree, votes,
-- the search log, ticket-form deflection and the editable synonym groups. Times are Unix milliseconds.
CREATE TABLE kb_categories (
    slug         TEXT PRIMARY KEY,
    parent       TEXT REFERENCES kb_categories(slug),
    name_zh_hans TEXT NOT NULL,
    name_zh_hant TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    position     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO kb_categories (slug, parent, name_zh_hans, name_zh_hant, name_en, position) VALUES
    ('funds', NULL, '充值与提币', '入金與提幣', 'Deposits & withdrawals', 10),
    ('deposit', 'funds', '充值', '入金', 'Deposits', 11),
    ('withdrawal', 'funds', '提币', '提幣', 'Withdrawals', 12),
    ('account-security', NULL, '账户与安全', '帳戶與安全', 'Account & security', 20),
    ('kyc', NULL, '身份认证', '身分驗證', 'Identity verification', 30),
    ('trading', NULL, '交易', '交易', 'Trading', 40),
    ('c2c', 'trading', 'C2C 交易', 'C2C 交易', 'C2C trading', 41),
    ('fees', NULL, '费用', '費用', 'Fees', 50),
    ('api', NULL, 'API', 'API', 'API', 60),
    ('support', NULL, '联系客服', '聯絡客服', 'Contacting support', 70);

CREATE TABLE kb_articles (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    category   TEXT NOT NULL REFERENCES kb_categories(slug),
    status     TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX kb_articles_category ON kb_articles (category, status);

-- Keywords are per language (they are search words in that language), stored as a JSON array.
CREATE TABLE kb_translations (
    article_id TEXT NOT NULL REFERENCES kb_articles(id),
    lang       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    keywords   TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, lang)
);

-- Every save: who, when, and the whole article as it was saved (JSON).
CREATE TABLE kb_versions (
    article_id  TEXT NOT NULL REFERENCES kb_articles(id),
    version     BIGINT NOT NULL,
    author_id   TEXT,
    author_name TEXT NOT NULL,
    note        TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- One vote per visitor (a hashed cookie) and article; voting again replaces the vote.
CREATE TABLE kb_votes (
    article_id TEXT NOT NULL REFERENCES kb_articles(id),
    voter      TEXT NOT NULL,
    lang       TEXT NOT NULL,
    helpful    BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, voter)
);

CREATE TABLE kb_searches (
    id          TEXT PRIMARY KEY,
    query       TEXT NOT NULL,
    lang        TEXT,
    source      TEXT NOT NULL,
    results     BIGINT NOT NULL,
    top_article TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX kb_searches_time ON kb_searches (created_at);

-- A ticket form that showed suggested articles; `ticket_id` is set when the customer still filed the ticket.
CREATE TABLE kb_deflections (
    form_id     TEXT PRIMARY KEY,
    customer_id TEXT,
    lang        TEXT,
    top_article TEXT,
    shown_at    BIGINT NOT NULL,
    ticket_id   TEXT,
    filed_at    BIGINT
);
CREATE INDEX kb_deflections_time ON kb_deflections (shown_at);

-- Query-time synonym groups (terms separated by ", "), seeded once from the built-in set.
CREATE TABLE kb_synonyms (
    id         TEXT PRIMARY KEY,
    terms      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE kb_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
