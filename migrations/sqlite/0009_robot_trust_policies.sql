-- 0009: federated robots. A robot with a trust_issuer logs in with an OIDC
-- JWT from the named issuer (federation.issuers in the config) whose claims
-- meet every condition; it has no secret. Its secret_hash (NOT NULL UNIQUE)
-- then holds 'trust:' || name, which no secret hashes to (hex SHA-256), so a
-- plain password can never match it. trust_conditions is a JSON array of
-- {"claim": KEY, "pattern": PATTERN}. The policy lives in the robot's row:
-- the token path reads it with the robot, no join.
ALTER TABLE robots ADD COLUMN trust_issuer TEXT;
ALTER TABLE robots ADD COLUMN trust_conditions TEXT;

-- The audit trail names the external identity behind a federated login:
-- the JWT's iss and sub (never the JWT).
ALTER TABLE audit_log ADD COLUMN federated_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN federated_subject TEXT NOT NULL DEFAULT '';
