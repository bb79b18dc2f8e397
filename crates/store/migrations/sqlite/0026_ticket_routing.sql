-- Ticket routing (issue 13): new tickets go to an online agent of their department, tier and language, as
-- chats do. `mode` is the admins' choice: `off` (tickets wait in the queue for someone to take them),
-- `least_loaded` (fewest open cases first) or `round_robin` (whoever was given a ticket longest ago first).
CREATE TABLE ticket_routing (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    mode       TEXT NOT NULL DEFAULT 'off' CHECK (mode IN ('off', 'least_loaded', 'round_robin')),
    updated_by TEXT,
    updated_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO ticket_routing (id) VALUES (1);

-- When the router last gave the agent a ticket (round robin's order).
ALTER TABLE agents ADD COLUMN last_routed_at BIGINT NOT NULL DEFAULT 0;
