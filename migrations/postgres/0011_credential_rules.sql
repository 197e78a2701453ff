-- 0011: robots are found by name, never by secret.
--
-- robots.secret_hash was UNIQUE. That let anyone who manages one robot test
-- whether ANY robot in the system has a given secret: set their own robot's
-- secret to the candidate and watch for "already exists". Logins look a
-- robot up by name and check the secret against that one row, so nothing
-- needs the hash to be unique or indexed. A federated robot's marker
-- ('trust:' || name, see 0009) stays as it is.
ALTER TABLE robots DROP CONSTRAINT robots_secret_hash_key;
