-- Closed sets of values, checked by the database too: a row can hold only what the domain's wire enums
-- (lifebuoy_domain::{ConversationKind, Status, Priority, Category, Tier, Lang, Role, ChatState, KbStatus})
-- can read back. store/tests/checks.rs keeps these lists equal to the enums.
-- SQLite cannot add a CHECK to an existing table: triggers refuse the same values on insert and update.

CREATE TRIGGER conversations_kind_check_insert BEFORE INSERT ON conversations
WHEN NEW.kind NOT IN ('ticket', 'chat', 'email', 'appeal')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.kind'); END;
CREATE TRIGGER conversations_kind_check_update BEFORE UPDATE OF kind ON conversations
WHEN NEW.kind NOT IN ('ticket', 'chat', 'email', 'appeal')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.kind'); END;

CREATE TRIGGER conversations_status_check_insert BEFORE INSERT ON conversations
WHEN NEW.status NOT IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.status'); END;
CREATE TRIGGER conversations_status_check_update BEFORE UPDATE OF status ON conversations
WHEN NEW.status NOT IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.status'); END;

CREATE TRIGGER conversations_priority_check_insert BEFORE INSERT ON conversations
WHEN NEW.priority NOT IN ('low', 'normal', 'high', 'urgent')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.priority'); END;
CREATE TRIGGER conversations_priority_check_update BEFORE UPDATE OF priority ON conversations
WHEN NEW.priority NOT IN ('low', 'normal', 'high', 'urgent')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.priority'); END;

CREATE TRIGGER conversations_category_check_insert BEFORE INSERT ON conversations
WHEN NEW.category NOT IN ('account', 'kyc', 'deposit', 'withdrawal', 'trading', 'c2c', 'security', 'api', 'other')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.category'); END;
CREATE TRIGGER conversations_category_check_update BEFORE UPDATE OF category ON conversations
WHEN NEW.category NOT IN ('account', 'kyc', 'deposit', 'withdrawal', 'trading', 'c2c', 'security', 'api', 'other')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.category'); END;

CREATE TRIGGER conversations_tier_check_insert BEFORE INSERT ON conversations
WHEN NEW.tier NOT IN ('l1', 'l2', 'supervisor')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.tier'); END;
CREATE TRIGGER conversations_tier_check_update BEFORE UPDATE OF tier ON conversations
WHEN NEW.tier NOT IN ('l1', 'l2', 'supervisor')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.tier'); END;

CREATE TRIGGER conversations_lang_check_insert BEFORE INSERT ON conversations
WHEN NEW.lang NOT IN ('zh-Hans', 'zh-Hant', 'en')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.lang'); END;
CREATE TRIGGER conversations_lang_check_update BEFORE UPDATE OF lang ON conversations
WHEN NEW.lang NOT IN ('zh-Hans', 'zh-Hant', 'en')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: conversations.lang'); END;

CREATE TRIGGER agents_role_check_insert BEFORE INSERT ON agents
WHEN NEW.role NOT IN ('agent_l1', 'agent_l2', 'supervisor', 'admin')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: agents.role'); END;
CREATE TRIGGER agents_role_check_update BEFORE UPDATE OF role ON agents
WHEN NEW.role NOT IN ('agent_l1', 'agent_l2', 'supervisor', 'admin')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: agents.role'); END;

CREATE TRIGGER chats_state_check_insert BEFORE INSERT ON chats
WHEN NEW.state NOT IN ('bot', 'queued', 'active', 'ended')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: chats.state'); END;
CREATE TRIGGER chats_state_check_update BEFORE UPDATE OF state ON chats
WHEN NEW.state NOT IN ('bot', 'queued', 'active', 'ended')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: chats.state'); END;

CREATE TRIGGER kb_articles_status_check_insert BEFORE INSERT ON kb_articles
WHEN NEW.status NOT IN ('draft', 'published', 'internal')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: kb_articles.status'); END;
CREATE TRIGGER kb_articles_status_check_update BEFORE UPDATE OF status ON kb_articles
WHEN NEW.status NOT IN ('draft', 'published', 'internal')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: kb_articles.status'); END;
