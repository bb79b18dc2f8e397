-- "My account may be stolen" (issue 16): the customer's emergency, its confirmation with a fresh identity token,
-- and the exchange's answer to the freeze call. The case itself is a conversation (urgent, risk department); this
-- row is the state machine beside it: awaiting_confirmation -> confirmed -> frozen | failed. The freeze call is
-- a durable job (`trust.freeze`) written in the transaction that confirms.
CREATE TABLE account_emergencies (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    state           TEXT NOT NULL CHECK (state = 'awaiting_confirmation' OR state = 'confirmed' OR state = 'frozen'
                                         OR state = 'failed'),
    auth_time       BIGINT,
    confirmed_at    BIGINT,
    answer_status   BIGINT,
    answer          TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX account_emergencies_customer ON account_emergencies (customer_id, created_at);
CREATE INDEX account_emergencies_conversation ON account_emergencies (conversation_id);

-- Step-up verification: an agent asks the customer to re-verify before an account action; the customer does it
-- with a fresh identity token (its auth_time recent), and the conversation records both.
CREATE TABLE step_ups (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    action          TEXT NOT NULL CHECK (action = 'unlock' OR action = '2fa_reset' OR action = 'whitelist_change'
                                          OR action = 'other'),
    requested_by    TEXT NOT NULL,
    requested_at    BIGINT NOT NULL,
    completed_at    BIGINT,
    auth_time       BIGINT
);
CREATE INDEX step_ups_conversation ON step_ups (conversation_id, requested_at);
