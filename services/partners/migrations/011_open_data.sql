-- What a partner agreed to publish as open data (issue 22: the municipality's HSDS API and dataset). Nothing
-- until the partner or the library's staff choose so: every partner starts unpublished.
ALTER TABLE partners ADD COLUMN IF NOT EXISTS open_data jsonb NOT NULL DEFAULT '{"publish": false}'::jsonb;
