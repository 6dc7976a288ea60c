-- Partners do their part (issue 24). A volunteer organisation trains the library's volunteers where its side of
-- the partnership brings `training`: this service keeps what each side brings in, ordered by the partnership's
-- version (its activation and a change of terms arrive on separate consumers). Attendance keeps who recorded it
-- (the library's staff or the partner), and a qualification when its supplier was told it is about to run out.
ALTER TABLE known_partnerships ADD COLUMN partner_contributions jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE known_partnerships ADD COLUMN terms_version integer NOT NULL DEFAULT 0;
ALTER TABLE training_sessions ADD COLUMN scheduled_by text;
ALTER TABLE attendance ADD COLUMN recorded_by text;
ALTER TABLE qualifications ADD COLUMN expiring_told_for date;
