-- A partner's credentials are its own (issue 15): an operator who issues or revokes one for support says why,
-- and the key keeps it; who revoked a key is kept beside when.
ALTER TABLE api_keys ADD COLUMN created_for_support text;
ALTER TABLE api_keys ADD COLUMN revoked_by text;
ALTER TABLE api_keys ADD COLUMN revoked_for_support text;
