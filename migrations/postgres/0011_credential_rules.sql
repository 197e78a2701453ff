-- 0011: the rules about credentials live in one place each.

-- Revocation is internal/admin's rule, applied in the change's transaction:
-- an administrator's password reset or a disable revokes the user's refresh
-- tokens AND personal access tokens, one's own password change only the
-- refresh tokens. A trigger cannot tell those apart, and a second home for
-- half of the rule is how the two drift: the trigger of 0003 goes.
DROP TRIGGER users_revoke_refresh_tokens ON users;
DROP FUNCTION revoke_refresh_tokens();

-- Robots are found by name, never by secret. robots.secret_hash was UNIQUE,
-- which let anyone who manages one robot test whether ANY robot in the
-- system has a given secret: set their own robot's secret to the candidate
-- and watch for "already exists". Logins look a robot up by name and check
-- the secret against that one row, so nothing needs the hash to be unique
-- or indexed. A federated robot's marker ('trust:' || name, see 0009) stays.
ALTER TABLE robots DROP CONSTRAINT robots_secret_hash_key;
