-- CHECK constraints on SQLite's conversations and chats (the values of lifebuoy_domain::{ConversationKind,
-- Status, Priority, Category, Tier, Lang, ChatState}), as PostgreSQL has had since 0008. store/tests/checks.rs
-- keeps these lists equal to the enums.
--
-- SQLite cannot add a CHECK to an existing table, and rebuilding `conversations` (which a dozen tables
-- reference) would mean turning foreign keys off, which a migration's transaction cannot. A CHECK constraint does
-- not change how rows are stored, so it is written into the table's definition instead (`writable_schema`, as
-- SQLite's documentation describes for changes that leave the stored format alone), after checking that every
-- row already holds. Unlike the triggers 0008 left out, a CHECK costs little per write (see 2). `writable_schema = RESET` makes this
-- connection read the new definitions; the table created and dropped at the end moves the schema version on, so
-- every other connection does too.

-- 1. Every row already holds (a row that does not stops the migration here, and nothing is changed).
CREATE TEMP TABLE lb_migration_0009 (every_row_holds_a_known_value INTEGER CHECK (every_row_holds_a_known_value = 0));
INSERT INTO lb_migration_0009 SELECT COUNT(*) FROM conversations WHERE kind NOT IN ('ticket', 'chat', 'email', 'appeal') OR status NOT IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed') OR priority NOT IN ('low', 'normal', 'high', 'urgent') OR category NOT IN ('account', 'kyc', 'deposit', 'withdrawal', 'trading', 'c2c', 'security', 'api', 'other') OR tier NOT IN ('l1', 'l2', 'supervisor') OR lang NOT IN ('zh-Hans', 'zh-Hant', 'en');
INSERT INTO lb_migration_0009 SELECT COUNT(*) FROM chats WHERE state NOT IN ('bot', 'queued', 'active', 'ended');
DROP TABLE lb_migration_0009;

-- 2. The constraints, in the tables' definitions. Each is written as `col = 'a' OR col = 'b' ...`, not as
-- `col IN ('a', 'b', ...)`: SQLite evaluates an IN list in a CHECK by building a small table on every write,
-- which cost 27 µs per insert and update of a conversation (wrk: the ticket throughput fell by about 7%); the
-- ORs cost about 3 µs (measured with Python's sqlite3, 100,000 inserts and updates each).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = substr(rtrim(sql), 1, length(rtrim(sql)) - 1) || ', CONSTRAINT conversations_kind_check CHECK (kind = ''ticket'' OR kind = ''chat'' OR kind = ''email'' OR kind = ''appeal''), CONSTRAINT conversations_status_check CHECK (status = ''new'' OR status = ''open'' OR status = ''pending'' OR status = ''on_hold'' OR status = ''solved'' OR status = ''closed''), CONSTRAINT conversations_priority_check CHECK (priority = ''low'' OR priority = ''normal'' OR priority = ''high'' OR priority = ''urgent''), CONSTRAINT conversations_category_check CHECK (category = ''account'' OR category = ''kyc'' OR category = ''deposit'' OR category = ''withdrawal'' OR category = ''trading'' OR category = ''c2c'' OR category = ''security'' OR category = ''api'' OR category = ''other''), CONSTRAINT conversations_tier_check CHECK (tier = ''l1'' OR tier = ''l2'' OR tier = ''supervisor''), CONSTRAINT conversations_lang_check CHECK (lang = ''zh-Hans'' OR lang = ''zh-Hant'' OR lang = ''en''))'
WHERE type = 'table' AND name = 'conversations' AND sql NOT LIKE '%conversations_kind_check%';
UPDATE sqlite_schema SET sql = substr(rtrim(sql), 1, length(rtrim(sql)) - 1) || ', CONSTRAINT chats_state_check CHECK (state = ''bot'' OR state = ''queued'' OR state = ''active'' OR state = ''ended''))'
WHERE type = 'table' AND name = 'chats' AND sql NOT LIKE '%chats_state_check%';
PRAGMA writable_schema = RESET;
CREATE TABLE lb_migration_0009_schema_version (x INTEGER);
DROP TABLE lb_migration_0009_schema_version;
