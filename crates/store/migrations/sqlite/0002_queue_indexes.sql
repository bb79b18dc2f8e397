-- Indexes for the agent queue's orderings. The partial ones cover only active cases (new, open, pending,
-- on hold): a small, hot slice of a table that is mostly closed history. Queries name exactly this predicate.
CREATE INDEX conversations_created ON conversations (created_at, id);
CREATE INDEX conversations_priority ON conversations (priority_rank, updated_at, id);
CREATE INDEX conversations_active_updated ON conversations (updated_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold');
CREATE INDEX conversations_active_department ON conversations (department_id, updated_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold');
CREATE INDEX conversations_active_priority ON conversations (priority_rank, updated_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold');
