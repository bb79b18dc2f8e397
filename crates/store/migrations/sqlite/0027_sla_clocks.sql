-- SLA clocks in the lists (issue 13). A case's clock is still read from its timeline
-- (`lifebuoy_app::sla`); what is kept here is its next deadline, so the queue can sort by time left and draw
-- the clock without reading every listed case's timeline. Written by `lifebuoy_app::sla::refresh` after each
-- change and by the durable `sla.check` job (so at worst a minute late). 9e15 means "no running clock" (met,
-- paused, solved, or a kind without clocks) and sorts after every real deadline.
ALTER TABLE conversations ADD COLUMN sla_due_at BIGINT NOT NULL DEFAULT 9000000000000000;
-- When the running clock turns to a warning (ms), and the state as of the last refresh:
-- ok | warning | breached | met | paused (NULL: not read yet, or no clock).
ALTER TABLE conversations ADD COLUMN sla_warn_at BIGINT;
ALTER TABLE conversations ADD COLUMN sla_state TEXT;
CREATE INDEX conversations_active_sla ON conversations (sla_due_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold');

-- A next-response target: how long a customer who wrote again waits for the desk's answer (chats: the
-- agent's next reply). NULL: the first-response target.
ALTER TABLE sla_policies ADD COLUMN next_response_min BIGINT CHECK (next_response_min IS NULL OR next_response_min > 0);
UPDATE sla_policies SET next_response_min = 2 WHERE id = 'chat';

-- More conditions (JSON lists, empty = any): the case's language (`zh-Hans`, `zh-Hant`, `en`), and the customer's
-- tags as agents keep them (`vip`): a VIP's withdrawal can be promised sooner than everyone else's.
ALTER TABLE sla_policies ADD COLUMN langs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sla_policies ADD COLUMN customer_tags TEXT NOT NULL DEFAULT '[]';

-- What a breach does, per policy (admins edit it): raise the priority (`keep`, `high`, `urgent`) and move the
-- case up the tiers (`keep`, `l2`, `supervisor`). The shipped policies raise to urgent and move to L2.
ALTER TABLE sla_policies ADD COLUMN breach_priority TEXT NOT NULL DEFAULT 'urgent'
    CHECK (breach_priority IN ('keep', 'high', 'urgent'));
ALTER TABLE sla_policies ADD COLUMN breach_tier TEXT NOT NULL DEFAULT 'l2'
    CHECK (breach_tier IN ('keep', 'l2', 'supervisor'));
