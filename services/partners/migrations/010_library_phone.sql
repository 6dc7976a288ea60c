-- A library's general telephone number beside its general address (issue 20): the directory entry names the
-- library, its e-mail and its phone, as a partner's does.
ALTER TABLE libraries ADD COLUMN phone text;
