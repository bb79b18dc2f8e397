-- A refused mail's reason as a stable code (`auto_submitted`, `blocked`, `rate_mails`, ...) and what the mail
-- said (a header's value, the blocking pattern, a file's name), so the console shows it in the reader's
-- language; `reason` keeps the English sentence for logs and for rows noted before codes.
ALTER TABLE mail_rejections ADD COLUMN code TEXT;
ALTER TABLE mail_rejections ADD COLUMN detail TEXT;
