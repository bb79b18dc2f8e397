-- Closed sets of values, checked by the database too: a row can hold only what the domain's wire enums
-- (lifebuoy_domain::{Role, KbStatus}) can read back. store/tests/checks.rs keeps these lists equal to the enums.
--
-- SQLite cannot add a CHECK to an existing table, so triggers refuse other values on insert and update. Only
-- on tables written rarely: triggers on `conversations` cost a fifth of the ticket throughput (measured with
-- wrk, 2 cores: about 4,000 -> 3,150 tickets/s, one combined trigger no better than six). The conversation and
-- chat columns are checked on PostgreSQL by CHECK constraints, and on SQLite by the store's typed writes (every
-- value written comes from a domain enum); real CHECKs there need the table rebuilt (a later migration).

CREATE TRIGGER agents_role_check_insert BEFORE INSERT ON agents
WHEN NEW.role NOT IN ('agent_l1', 'agent_l2', 'supervisor', 'admin')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: agents.role'); END;
CREATE TRIGGER agents_role_check_update BEFORE UPDATE OF role ON agents
WHEN NEW.role NOT IN ('agent_l1', 'agent_l2', 'supervisor', 'admin')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: agents.role'); END;

CREATE TRIGGER kb_articles_status_check_insert BEFORE INSERT ON kb_articles
WHEN NEW.status NOT IN ('draft', 'published', 'internal')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: kb_articles.status'); END;
CREATE TRIGGER kb_articles_status_check_update BEFORE UPDATE OF status ON kb_articles
WHEN NEW.status NOT IN ('draft', 'published', 'internal')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: kb_articles.status'); END;
