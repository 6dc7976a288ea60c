-- Hours (issue 18): a wrong entry is corrected or removed, never overwritten without a trace. An entry has a
-- version (If-Match); a removed one stays, flagged, and no longer counts; each change keeps what the entry said
-- before it, when, by whom and why. A day's total per volunteer is summed over the entries that count.
ALTER TABLE hours
    ADD COLUMN version    integer NOT NULL DEFAULT 1,
    ADD COLUMN removed_at timestamptz;
CREATE INDEX hours_by_volunteer_day ON hours (volunteer_id, worked_on) WHERE removed_at IS NULL;

CREATE TABLE hours_changes (
    id        bigserial PRIMARY KEY,
    entry_id  uuid NOT NULL REFERENCES hours (id),
    change    text NOT NULL,             -- corrected | removed
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    reason    text,                      -- NULL once the person's data was erased
    worked_on date NOT NULL,             -- the entry as it was before the change
    minutes   integer NOT NULL,
    note      text
);
CREATE INDEX hours_changes_by_entry ON hours_changes (entry_id, id);
