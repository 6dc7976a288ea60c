-- The operator's mail outbox pages newest first by (created_at, id) (issue 20, ListMail's cursor): the keyset walks
-- this index, the tie of two messages written in one transaction (one `now()`) broken by the id.
DROP INDEX IF EXISTS mail_outbox_recent;
CREATE INDEX IF NOT EXISTS mail_outbox_recent ON mail_outbox (created_at DESC, id DESC);
