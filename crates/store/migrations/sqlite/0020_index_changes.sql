-- The search indexes' change log: one row for every committed change an index must take in (a ticket written,
-- erased; a knowledge-base article or the synonyms saved), inserted in the transaction of the change. Each node
-- keeps its indexes on disk with the position it has read the log up to, and on start reads on from there:
-- changes made while it was down, or whose hub notice it missed, reach its index from the database.
-- On SQLite the single writer commits rows in `seq` order, so a position is the last `seq` read (`xid` is 0).
CREATE TABLE index_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    xid       BIGINT NOT NULL DEFAULT 0,
    entity    TEXT NOT NULL CHECK (entity IN ('ticket', 'article', 'synonyms')),
    entity_id TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX index_changes_entity ON index_changes (entity, xid, seq);
CREATE INDEX index_changes_at ON index_changes (at);

-- Which database an index was built from (`epoch`, drawn once), and how far the log has been pruned: an index
-- whose position is older than the pruned floor, or stamped with another epoch, is rebuilt.
CREATE TABLE index_log (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    epoch      TEXT NOT NULL,
    floor_xid  BIGINT NOT NULL DEFAULT 0,
    floor_seq  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO index_log (id, epoch) VALUES (1, lower(hex(randomblob(16))));

