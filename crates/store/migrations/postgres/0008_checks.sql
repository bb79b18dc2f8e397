-- Closed sets of values, checked by the database too: a row can hold only what the domain's wire enums
-- (lifebuoy_domain::{ConversationKind, Status, Priority, Category, Tier, Lang, Role, ChatState, KbStatus})
-- can read back. store/tests/checks.rs keeps these lists equal to the enums.
-- PostgreSQL: CHECK constraints, added NOT VALID (no long lock) and then validated.

ALTER TABLE conversations ADD CONSTRAINT conversations_kind_check CHECK (kind IN ('ticket', 'chat', 'email', 'appeal')) NOT VALID;
ALTER TABLE conversations VALIDATE CONSTRAINT conversations_kind_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_status_check CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')) NOT VALID;
ALTER TABLE conversations VALIDATE CONSTRAINT conversations_status_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_priority_check CHECK (priority IN ('low', 'normal', 'high', 'urgent')) NOT VALID;
ALTER TABLE conversations VALIDATE CONSTRAINT conversations_priority_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_category_check CHECK (category IN ('account', 'kyc', 'deposit', 'withdrawal', 'trading', 'c2c', 'security', 'api', 'other')) NOT VALID;
ALTER TABLE conversations VALIDATE CONSTRAINT conversations_category_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_tier_check CHECK (tier IN ('l1', 'l2', 'supervisor')) NOT VALID;
ALTER TABLE conversations VALIDATE CONSTRAINT conversations_tier_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_lang_check CHECK (lang IN ('zh-Hans', 'zh-Hant', 'en')) NOT VALID;
ALTER TABLE conversations VALIDATE CONSTRAINT conversations_lang_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check CHECK (role IN ('agent_l1', 'agent_l2', 'supervisor', 'admin')) NOT VALID;
ALTER TABLE agents VALIDATE CONSTRAINT agents_role_check;
ALTER TABLE chats ADD CONSTRAINT chats_state_check CHECK (state IN ('bot', 'queued', 'active', 'ended')) NOT VALID;
ALTER TABLE chats VALIDATE CONSTRAINT chats_state_check;
ALTER TABLE kb_articles ADD CONSTRAINT kb_articles_status_check CHECK (status IN ('draft', 'published', 'internal')) NOT VALID;
ALTER TABLE kb_articles VALIDATE CONSTRAINT kb_articles_status_check;
