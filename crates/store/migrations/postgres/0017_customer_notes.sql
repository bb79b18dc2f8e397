-- What agents keep about a customer, beside the customer's conversations: tags (`vip`, `otc`, `scam-victim`)
-- and notes (internal: never shown to the customer, never in an export). Erasing a customer's data removes
-- both.
CREATE TABLE customer_tags (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    tag         TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);

CREATE TABLE customer_notes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    author_id   TEXT NOT NULL REFERENCES agents(id),
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_notes_customer ON customer_notes (customer_id, created_at);
