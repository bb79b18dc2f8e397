-- The customer's account beside every case (issue 14, item 6).
--
-- The exchange answers a signed lookup with what it knows of one of its users (KYC level, VIP tier, account
-- state, recent deposits and withdrawals, open C2C orders): one source, set by admins. Answers are not kept
-- here (a short in-memory cache on each node): the exchange stays the owner of its users' accounts.
CREATE TABLE customer_context_source (
    id         TEXT PRIMARY KEY CHECK (id = 'exchange'),
    url        TEXT NOT NULL,
    -- Signs each lookup (kept in clear: signing needs it; never shown again after it is set).
    secret     TEXT NOT NULL,
    timeout_ms BIGINT NOT NULL,
    cache_s    BIGINT NOT NULL,
    updated_by TEXT,
    updated_at BIGINT NOT NULL
);

-- What the exchange pushed about one of its users (by the exchange's user id, so it may come before the user
-- ever writes to support): tier and flags, shown beside their cases whether the lookup answers or not.
CREATE TABLE exchange_user_profiles (
    user_id    TEXT PRIMARY KEY,
    vip_tier   TEXT,
    -- A JSON array of short strings ("vip", "under_review", ...).
    flags      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
