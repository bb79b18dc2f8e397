-- The registry of official channels (issue 16): what the public "is this official?" check answers from. Admins
-- edit it on /console/trust. `value` is the normal form (`app::trust::channels::normalize_as`): a domain in
-- ASCII/punycode without `www.`, an address in lower case, a phone number as +<country><number>, a handle
-- without `@`, an agent number in upper case. Agents' numbers are official without a row here (the agents
-- table answers for them); rows of kind `agent_no` name numbers that are not desk accounts (a phone team's).
CREATE TABLE trust_channels (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind = 'domain' OR kind = 'email' OR kind = 'phone' OR kind = 'telegram'
                                    OR kind = 'x' OR kind = 'discord' OR kind = 'wechat' OR kind = 'agent_no'),
    value      TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 253),
    label      TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    added_by   TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (kind, value)
);
