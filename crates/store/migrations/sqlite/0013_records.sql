-- Communication records (issue 12): the hash chain, its signing keys and signed heads, and customer lookup.

-- Each timeline entry's chain digest: SHA-256 of the previous entry's digest and this entry's leaf (the SHA-256
-- of its canonical bytes), hex; see crates/records. Written with the entry, never changed.
ALTER TABLE messages ADD COLUMN digest TEXT;
ALTER TABLE events ADD COLUMN digest TEXT;
-- The rows not chained yet (written before this migration): what the start-up chaining looks for, on an index
-- that is empty once it has run, so later starts read nothing.
CREATE INDEX messages_unchained ON messages (conversation_id) WHERE digest IS NULL;
CREATE INDEX events_unchained ON events (conversation_id) WHERE digest IS NULL;

-- Erasure removes an entry's content and keeps its leaf, so the chain stays whole and older exports verify.
ALTER TABLE messages ADD COLUMN erased_at BIGINT;
ALTER TABLE messages ADD COLUMN leaf TEXT;
ALTER TABLE events ADD COLUMN erased_at BIGINT;
ALTER TABLE events ADD COLUMN leaf TEXT;

-- The public half of every key that ever signed (the private half stays in the signing node's data directory);
-- published at /.well-known/lifebuoy-signing-keys, retired ones too.
CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

-- Signed chain heads (seals): a conversation's digest at `seq`, signed with `key_id`.
CREATE TABLE chain_seals (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             BIGINT NOT NULL,
    digest          TEXT NOT NULL,
    signed_at       BIGINT NOT NULL,
    key_id          TEXT NOT NULL REFERENCES signing_keys(id),
    signature       TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- Agents find a customer by the order or the transaction a case is about (exact and prefix match: a range
-- over the index, byte by byte).
CREATE INDEX conversations_order_id ON conversations (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX conversations_tx_hash ON conversations (tx_hash) WHERE tx_hash IS NOT NULL;

-- Agents find a customer by the exchange's UID, email or name (exact and prefix match).
CREATE INDEX customers_external_prefix ON customers (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX customers_email_lower ON customers (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX customers_name ON customers (name) WHERE name IS NOT NULL;

-- Who saw what (issue 12, access audit): every time staff open a customer's page, a conversation or an export.
-- Hash-chained like the timelines (`digest` = SHA-256 of the previous row's digest and this row's leaf), so a
-- row removed or changed afterwards shows.
CREATE TABLE access_log (
    seq             BIGINT PRIMARY KEY,
    at              BIGINT NOT NULL,
    actor_kind      TEXT NOT NULL,
    actor_id        TEXT,
    actor_label     TEXT NOT NULL,
    customer_id     TEXT,
    conversation_id TEXT,
    what            TEXT NOT NULL,
    screen          TEXT NOT NULL,
    digest          TEXT NOT NULL
);
CREATE INDEX access_log_customer ON access_log (customer_id, seq) WHERE customer_id IS NOT NULL;
CREATE INDEX access_log_actor ON access_log (actor_id, seq) WHERE actor_id IS NOT NULL;
