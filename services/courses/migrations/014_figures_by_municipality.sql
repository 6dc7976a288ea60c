-- The overview's course figures for a municipality (issue 25): its open requests for tailored education and those
-- made in a period, found by the municipality as a library's are by the library.
CREATE INDEX IF NOT EXISTS education_requests_by_municipality ON education_requests (municipality, created_at, id);
