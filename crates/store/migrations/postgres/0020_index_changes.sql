-- The search indexes' change log: one row for every committed change an index must take in (a ticket written,
-- erased; a knowledge-base article or the synonyms saved), inserted in the transaction of the change. Each node
-- keeps its indexes on disk with the position it has read the log up to, and on start reads on from there:
-- changes made while it was down, or whose hub notice it missed, reach its index from the database.
-- On PostgreSQL, transactions commit out of `seq` order, so each row also carries its transaction's id (`xid`,
-- 64-bit, never wrapping): a reader takes every row it sees, but moves its position only below the oldest
-- transaction still running (`pg_snapshot_xmin`), so a row committed late is still read.
CREATE TABLE index_changes (
    seq       BIGSERIAL PRIMARY KEY,
    xid       BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
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
INSERT INTO index_log (id, epoch) VALUES (1, md5(random()::text || clock_timestamp()::text));

