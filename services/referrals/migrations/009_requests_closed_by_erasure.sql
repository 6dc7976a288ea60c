-- A person's erasure closes their open requests of the library (issue 14): each is marked handled, by the
-- erasure, so staff see in their list that nothing is left to do for it.
ALTER TABLE participant_change_requests ADD COLUMN handled_by_erasure boolean NOT NULL DEFAULT false;
