-- Places kept for a referrer's referrals end (issue 24): after the last day the library set when planning, or when
-- the referrer says it needs no more; the unused kept places then go to the general waiting list.
ALTER TABLE courses ADD COLUMN reserved_until date;
ALTER TABLE courses ADD COLUMN reservation_ended_at timestamptz;
CREATE INDEX courses_reservations_running ON courses (reserved_until)
    WHERE reserved_for_partner_id IS NOT NULL AND reservation_ended_at IS NULL;
ALTER TABLE education_requests ADD COLUMN reserved_until date;
ALTER TABLE education_requests ADD COLUMN reservation_ended_at timestamptz;
ALTER TABLE education_requests ADD COLUMN reservation_end text;
