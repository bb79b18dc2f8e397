-- The email channel's robustness (issue 11, mail in).

-- The sanitised HTML of a message that came by mail (ammonia: no scripts, no remote images, links with
-- rel="noopener noreferrer"), shown instead of the text where present. The text in `body` stays the record and
-- what search reads.
ALTER TABLE messages ADD COLUMN body_html TEXT;

-- Who sent each mail taken in, and whether it opened a case: the per-sender rate limit counts these.
ALTER TABLE mail_messages ADD COLUMN sender TEXT;
ALTER TABLE mail_messages ADD COLUMN opened BIGINT NOT NULL DEFAULT 0;
CREATE INDEX mail_messages_sender ON mail_messages (sender, created_at);

-- Which SMTP answer a refusal got: 'accepted' (taken and set aside, e.g. an auto-reply), 'temporary' (451, e.g.
-- the sender's rate limit: it retries later), 'permanent' (550, e.g. a blocked sender), 'note' (the mail became a
-- case, but a part of it, an attachment, was not taken).
ALTER TABLE mail_rejections ADD COLUMN outcome TEXT NOT NULL DEFAULT 'accepted';

-- Senders whose mail is refused (550 5.7.1): a whole address (`someone@example.com`) or a whole domain
-- (`@example.com`), lower case. Kept by admins on /console/mail.
CREATE TABLE mail_blocklist (
    pattern     TEXT PRIMARY KEY,
    note        TEXT,
    created_by  TEXT,
    created_at  BIGINT NOT NULL
);

-- An exchange customer's address that the exchange itself vouched for (its signed identity token's email claim)
-- is marked verified; mail from it joins that customer. Looked up by lower-cased address.
CREATE INDEX customers_exchange_email ON customers (lower(email)) WHERE kind = 'exchange';
