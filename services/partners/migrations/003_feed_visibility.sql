-- Feed positions come from a sequence at insert time, so two entries can commit out of position order.
-- Remember which transaction wrote each entry: readers are shown only entries whose writer is older
-- than every transaction still running, so a cursor (`after`) never passes an entry that commits late.
ALTER TABLE feed_entries ADD COLUMN written_by xid8 NOT NULL DEFAULT pg_current_xact_id();
