-- Retention and privacy (issue 12): soft deletion with a recovery window, legal holds, erasure.

-- A conversation deleted (by a supervisor, or by the retention rules) is hidden at once and erased by the purge
-- job once the recovery window has passed; until then a supervisor can restore it.
ALTER TABLE conversations ADD COLUMN deleted_at BIGINT;
ALTER TABLE conversations ADD COLUMN deleted_by TEXT;
-- Set when the purge job erased it (its entries keep their digests and leaves: the chain stays whole).
ALTER TABLE conversations ADD COLUMN erased_at BIGINT;
CREATE INDEX conversations_deleted ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;

-- A legal hold on a customer (all their conversations) or on one conversation stops every deletion, erasure
-- and purge while a dispute runs.
CREATE TABLE legal_holds (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT REFERENCES customers(id),
    conversation_id TEXT REFERENCES conversations(id),
    reason          TEXT NOT NULL,
    placed_by       TEXT NOT NULL,
    placed_at       BIGINT NOT NULL,
    released_by     TEXT,
    released_at     BIGINT,
    CHECK (customer_id IS NOT NULL OR conversation_id IS NOT NULL)
);
CREATE INDEX legal_holds_customer ON legal_holds (customer_id) WHERE released_at IS NULL;
CREATE INDEX legal_holds_conversation ON legal_holds (conversation_id) WHERE released_at IS NULL;
