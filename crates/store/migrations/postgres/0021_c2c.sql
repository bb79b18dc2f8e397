-- C2C (P2P) orders and their appeals (issue 14), and the signed webhooks to the exchange.
--
-- An order is the exchange's: it registers it, then reports what happens to it (paid, released, cancelled,
-- expired). Each event is kept once per order (a repeat changes nothing) and the state only moves forward, so
-- events may arrive in any order. The order's conversation (kind 'appeal': the order chat, then the appeal on it)
-- is opened on the first message or appeal; its customer is the buyer, and the seller is let in by the order.
CREATE TABLE c2c_orders (
    id              TEXT PRIMARY KEY,
    buyer           TEXT NOT NULL,
    seller          TEXT NOT NULL,
    asset           TEXT NOT NULL,
    amount          TEXT NOT NULL,
    fiat_amount     TEXT NOT NULL,
    fiat_currency   TEXT NOT NULL,
    payment_method  TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state = 'created' OR state = 'paid' OR state = 'released'
                                         OR state = 'cancelled' OR state = 'expired'),
    -- How long after the buyer marked it paid an appeal may be opened (seconds; the exchange's rule).
    appeal_after_s  BIGINT NOT NULL DEFAULT 0,
    placed_at       BIGINT NOT NULL,
    paid_at         BIGINT,
    ended_at        BIGINT,
    conversation_id TEXT REFERENCES conversations(id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (buyer <> seller)
);
CREATE INDEX c2c_orders_buyer ON c2c_orders (buyer, created_at);
CREATE INDEX c2c_orders_seller ON c2c_orders (seller, created_at);
CREATE INDEX c2c_orders_conversation ON c2c_orders (conversation_id);

CREATE TABLE c2c_order_events (
    order_id    TEXT NOT NULL REFERENCES c2c_orders(id),
    event       TEXT NOT NULL,
    -- When it happened, per the exchange (ms); when it reached the desk.
    at          BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, event)
);

-- One appeal at a time per order: a withdrawn or closed one leaves room for the next.
CREATE TABLE appeals (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES c2c_orders(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    opened_by       TEXT NOT NULL CHECK (opened_by = 'buyer' OR opened_by = 'seller'),
    reason          TEXT NOT NULL,
    status          TEXT NOT NULL,
    -- awaiting_evidence: from whom, by when (ms).
    awaiting_party  TEXT,
    evidence_due_at BIGINT,
    -- The arbiter's clock: when the appeal needs its next answer; NULL when no arbiter owes one (decided on).
    queue_at        BIGINT,
    arbiter_id      TEXT REFERENCES agents(id),
    decision        TEXT,
    rationale       TEXT,
    decided_by      TEXT REFERENCES agents(id),
    approved_by     TEXT REFERENCES agents(id),
    decided_at      BIGINT,
    executed_at     BIGINT,
    closed_at       BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX appeals_one_open ON appeals (order_id) WHERE closed_at IS NULL;
CREATE INDEX appeals_queue ON appeals (queue_at, id) WHERE queue_at IS NOT NULL;
CREATE INDEX appeals_conversation ON appeals (conversation_id);

-- Permissions beside an agent's role: 'arbiter' decides appeals.
CREATE TABLE agent_permissions (
    agent_id   TEXT NOT NULL REFERENCES agents(id),
    permission TEXT NOT NULL,
    PRIMARY KEY (agent_id, permission)
);

-- Four eyes: a decision on an order above this fiat amount needs a second arbiter (per currency).
CREATE TABLE c2c_four_eyes (
    fiat_currency TEXT PRIMARY KEY,
    above         TEXT NOT NULL
);

-- The exchange's webhook endpoints: where events go, which ones, and the secret that signs them (kept in clear:
-- signing needs it; it is never shown again after it is set).
CREATE TABLE webhook_endpoints (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_by TEXT,
    created_at BIGINT NOT NULL
);

-- One row per event per endpoint: the body sent (the same on every try and replay), and the last try's outcome.
CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'),
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_status  BIGINT,
    last_error   TEXT,
    last_try_at  BIGINT,
    delivered_at BIGINT,
    created_at   BIGINT NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at, id);

-- Appeal notices (kind 'appeal'), one per party: the inbox's kinds grow by one.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind = 'received' OR kind = 'replied'
    OR kind = 'status_changed' OR kind = 'more_info' OR kind = 'solved' OR kind = 'transcript' OR kind = 'appeal');
