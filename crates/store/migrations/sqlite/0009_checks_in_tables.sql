-- CHECK constraints on SQLite's conversations and chats (the values of lifebuoy_domain::{ConversationKind,
-- Status, Priority, Category, Tier, Lang, ChatState}), as PostgreSQL has had since 0008. store/tests/checks.rs
-- keeps these lists equal to the enums.
--
-- SQLite cannot add a CHECK to an existing table, and rebuilding `conversations` (which a dozen tables
-- reference) would mean turning foreign keys off, which a migration's transaction cannot. A CHECK constraint does
-- not change how rows are stored, so it is written into the table's definition instead (`writable_schema`, as
-- SQLite's documentation describes for changes that leave the stored format alone), after checking that every
-- row already holds. Unlike the
-- triggers 0008 left out, a CHECK costs next to nothing per write. `writable_schema = RESET` makes this
-- connection read the new definitions; the table created and dropped at the end moves the schema version on, so
-- every other connection does too.

-- 1. Every row already holds (a row that does not stops the migration here, and nothing is changed).
CREATE TEMP TABLE lb_migration_0009 (every_row_holds_a_known_value INTEGER CHECK (every_row_holds_a_known_value = 0));
INSERT INTO lb_migration_0009 SELECT COUNT(*) FROM conversations WHERE kind NOT IN ('ticket', 'chat', 'email', 'appeal') OR status NOT IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed') OR priority NOT IN ('low', 'normal', 'high', 'urgent') OR category NOT IN ('account', 'kyc', 'deposit', 'withdrawal', 'trading', 'c2c', 'security', 'api', 'other') OR tier NOT IN ('l1', 'l2', 'supervisor') OR lang NOT IN ('zh-Hans', 'zh-Hant', 'en');
INSERT INTO lb_migration_0009 SELECT COUNT(*) FROM chats WHERE state NOT IN ('bot', 'queued', 'active', 'ended');
DROP TABLE lb_migration_0009;

-- 2. The constraints, in the tables' definitions.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = substr(rtrim(sql), 1, length(rtrim(sql)) - 1) || ', CONSTRAINT conversations_kind_check CHECK (kind IN (''ticket'', ''chat'', ''email'', ''appeal'')), CONSTRAINT conversations_status_check CHECK (status IN (''new'', ''open'', ''pending'', ''on_hold'', ''solved'', ''closed'')), CONSTRAINT conversations_priority_check CHECK (priority IN (''low'', ''normal'', ''high'', ''urgent'')), CONSTRAINT conversations_category_check CHECK (category IN (''account'', ''kyc'', ''deposit'', ''withdrawal'', ''trading'', ''c2c'', ''security'', ''api'', ''other'')), CONSTRAINT conversations_tier_check CHECK (tier IN (''l1'', ''l2'', ''supervisor'')), CONSTRAINT conversations_lang_check CHECK (lang IN (''zh-Hans'', ''zh-Hant'', ''en'')))'
WHERE type = 'table' AND name = 'conversations' AND sql NOT LIKE '%conversations_kind_check%';
UPDATE sqlite_schema SET sql = substr(rtrim(sql), 1, length(rtrim(sql)) - 1) || ', CONSTRAINT chats_state_check CHECK (state IN (''bot'', ''queued'', ''active'', ''ended'')))'
WHERE type = 'table' AND name = 'chats' AND sql NOT LIKE '%chats_state_check%';
PRAGMA writable_schema = RESET;
CREATE TABLE lb_migration_0009_schema_version (x INTEGER);
DROP TABLE lb_migration_0009_schema_version;
