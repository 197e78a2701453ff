-- 0009: federated robots. A robot with a row here logs in with an OIDC JWT
-- from the named issuer (federation.issuers in the config) whose claims meet
-- every condition; it has no secret. Its robots.secret_hash (NOT NULL UNIQUE)
-- then holds 'trust:' || name, which no secret hashes to (hex SHA-256), so a
-- plain password can never match it. conditions is a JSON array of
-- {"claim": KEY, "pattern": PATTERN}.
CREATE TABLE robot_trust_policies (
    robot_id   BIGINT PRIMARY KEY REFERENCES robots (id) ON DELETE CASCADE,
    issuer     TEXT   NOT NULL,
    conditions TEXT   NOT NULL
);

-- The audit trail names the external identity behind a federated login:
-- the JWT's iss and sub (never the JWT).
ALTER TABLE audit_log ADD COLUMN federated_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN federated_subject TEXT NOT NULL DEFAULT '';
